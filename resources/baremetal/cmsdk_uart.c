/* Polling driver for the ARM CMSDK APB UART (see cmsdk_uart.h). */
#include "cmsdk_uart.h"

#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ICER ((volatile uint32_t *)0xE000E180u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)

void cmsdk_uart_init(const cmsdk_uart_t *uart, uint32_t pclk_hz, uint32_t baud)
{
    cmsdk_uart_regs_t *r = uart->regs;
    uint32_t div = baud ? pclk_hz / baud : 0u;

    r->CTRL = 0;
    r->BAUDDIV = div < 16u ? 16u : div;
    r->STATE = CMSDK_UART_STATE_TX_OVERRUN | CMSDK_UART_STATE_RX_OVERRUN; /* write 1 to clear */
    r->INTSTATUS = 0xFu;                                                   /* INTCLEAR */
    r->CTRL = CMSDK_UART_CTRL_TX_EN | CMSDK_UART_CTRL_RX_EN;
}

void cmsdk_uart_putc(const cmsdk_uart_t *uart, char c)
{
    cmsdk_uart_regs_t *r = uart->regs;
    while (r->STATE & CMSDK_UART_STATE_TX_FULL) {
    }
    r->DATA = (uint8_t)c;
}

void cmsdk_uart_write(const cmsdk_uart_t *uart, const void *data, size_t n)
{
    const char *p = (const char *)data;
    while (n--) {
        cmsdk_uart_putc(uart, *p++);
    }
}

void cmsdk_uart_puts(const cmsdk_uart_t *uart, const char *s)
{
    while (*s) {
        cmsdk_uart_putc(uart, *s++);
    }
}

int cmsdk_uart_getc_nowait(const cmsdk_uart_t *uart)
{
    cmsdk_uart_regs_t *r = uart->regs;
    uint32_t state = r->STATE;
    if (state & CMSDK_UART_STATE_RX_OVERRUN) {
        r->STATE = CMSDK_UART_STATE_RX_OVERRUN; /* a byte was lost; the newest one is kept */
    }
    if (!(state & CMSDK_UART_STATE_RX_FULL)) {
        return -1;
    }
    return (int)(r->DATA & 0xFFu);
}

/* Sleeps until the RX buffer holds a byte. The RX interrupt is enabled in the NVIC only around WFI,
 * with PRIMASK set, so it wakes WFI but its handler never runs. The pending flags are cleared before
 * the buffer is tested: a byte arriving between the test and WFI leaves the interrupt pending and
 * WFI returns at once. After each wake-up the caller's PRIMASK is restored for a moment, so other
 * interrupts (a SysTick, say) are taken instead of keeping WFI from sleeping. */
static void wait_rx_sleeping(const cmsdk_uart_t *uart)
{
    cmsdk_uart_regs_t *r = uart->regs;
    uint32_t word = (uint32_t)uart->rx_irq >> 5;
    uint32_t bit = 1u << ((uint32_t)uart->rx_irq & 31u);
    uint32_t primask;

    __asm__ volatile("mrs %0, primask" : "=r"(primask));
    r->CTRL |= CMSDK_UART_CTRL_RX_INTEN;
    for (;;) {
        __asm__ volatile("cpsid i" ::: "memory");
        r->INTSTATUS = CMSDK_UART_INT_RX; /* INTCLEAR */
        NVIC_ICPR[word] = bit;
        if (r->STATE & CMSDK_UART_STATE_RX_FULL) {
            break;
        }
        NVIC_ISER[word] = bit;
        __asm__ volatile("dsb\n\twfi" ::: "memory");
        NVIC_ICER[word] = bit;
        __asm__ volatile("dsb\n\tisb\n\tmsr primask, %0\n\tisb" : : "r"(primask) : "memory");
    }
    r->CTRL &= ~CMSDK_UART_CTRL_RX_INTEN;
    r->INTSTATUS = CMSDK_UART_INT_RX;
    NVIC_ICPR[word] = bit;
    __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
}

int cmsdk_uart_getc(const cmsdk_uart_t *uart)
{
    int c;
    while ((c = cmsdk_uart_getc_nowait(uart)) < 0) {
        if (uart->rx_irq >= 0) {
            wait_rx_sleeping(uart);
        }
    }
    return c;
}

size_t cmsdk_uart_read_line(const cmsdk_uart_t *uart, char *buf, size_t size)
{
    size_t n = 0;
    int c, last = -1;
    while ((c = cmsdk_uart_getc(uart)) != '\n') {
        if (n + 1 < size) {
            buf[n] = (char)c;
        }
        n++;
        last = c;
    }
    if (last == '\r') {
        n--; /* a stored '\r' is overwritten by the terminator */
    }
    buf[n < size ? n : size - 1] = '\0';
    return n;
}
