/* A small polling driver for the ARM CMSDK APB UART of the QEMU mps2 boards (the "virtual board" link).
 *
 * Registers (CMSDK technical reference, checked against QEMU 7.2): DATA +0x00, STATE +0x04 (bit 0 TX
 * buffer full, bit 1 RX buffer full, bits 2/3 TX/RX overrun, write 1 to clear), CTRL +0x08 (bit 0 TX
 * enable, bit 1 RX enable, bits 2/3 TX/RX interrupt enable), INTSTATUS/INTCLEAR +0x0C, BAUDDIV +0x10
 * (at least 16). Each direction holds one byte; nothing is sent or received unless enabled in CTRL.
 *
 * UART0 is QEMU's first -serial: 0x40004000 (RX interrupt 0) on mps2-an385/an386/an500, and on the
 * TrustZone mps2-an505 0x50200000, the secure alias of 0x40200000 (RX interrupt 32), since Studio's
 * programs run in secure state there. On QEMU the baud rate only matters to a host serial device; a
 * pseudo-terminal ignores it, and the host's reads and writes pace the link instead (flow control).
 *
 * With rx_irq >= 0, blocking reads sleep in WFI until a byte arrives instead of spinning, which
 * frees the host CPU that QEMU would burn on a polling loop (and doubles the throughput there). The
 * RX interrupt is enabled only around WFI, with PRIMASK set, so no handler runs (a pending interrupt
 * wakes WFI even when masked); other interrupts, such as a SysTick, are still taken while waiting.
 * Use rx_irq = -1 when the program handles the UART's interrupts itself.
 *
 * Written for C99; Thumb-1 safe for ARMv6-M. */
#ifndef CMSDK_UART_H
#define CMSDK_UART_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    volatile uint32_t DATA;      /* +0x00 low 8 bits: read the received byte, write a byte to send */
    volatile uint32_t STATE;     /* +0x04 */
    volatile uint32_t CTRL;      /* +0x08 */
    volatile uint32_t INTSTATUS; /* +0x0C read: pending interrupts; write: INTCLEAR */
    volatile uint32_t BAUDDIV;   /* +0x10 PCLK / baud, at least 16 */
} cmsdk_uart_regs_t;

#define CMSDK_UART_STATE_TX_FULL (1u << 0)
#define CMSDK_UART_STATE_RX_FULL (1u << 1)
#define CMSDK_UART_STATE_TX_OVERRUN (1u << 2)
#define CMSDK_UART_STATE_RX_OVERRUN (1u << 3)

#define CMSDK_UART_CTRL_TX_EN (1u << 0)
#define CMSDK_UART_CTRL_RX_EN (1u << 1)
#define CMSDK_UART_CTRL_TX_INTEN (1u << 2)
#define CMSDK_UART_CTRL_RX_INTEN (1u << 3)

#define CMSDK_UART_INT_TX (1u << 0)
#define CMSDK_UART_INT_RX (1u << 1)

/* UART0 of the board the program is built for (override with -D for another board or UART). */
#if !defined(CMSDK_UART0_BASE)
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8M_BASE__)
#define CMSDK_UART0_BASE 0x50200000u /* mps2-an505, secure alias */
#define CMSDK_UART0_RX_IRQ 32
#define CMSDK_UART_PCLK_HZ 20000000u
#else
#define CMSDK_UART0_BASE 0x40004000u /* mps2-an385/an386/an500 */
#define CMSDK_UART0_RX_IRQ 0
#define CMSDK_UART_PCLK_HZ 25000000u
#endif
#endif
#ifndef CMSDK_UART0_RX_IRQ
#define CMSDK_UART0_RX_IRQ (-1)
#endif
#ifndef CMSDK_UART_PCLK_HZ
#define CMSDK_UART_PCLK_HZ 25000000u
#endif

typedef struct {
    cmsdk_uart_regs_t *regs;
    int rx_irq; /* NVIC line of the RX interrupt; -1: blocking reads spin instead of sleeping */
} cmsdk_uart_t;

/* UART0, sleeping while it waits: `cmsdk_uart_t uart = CMSDK_UART0;` */
#define CMSDK_UART0 {(cmsdk_uart_regs_t *)CMSDK_UART0_BASE, CMSDK_UART0_RX_IRQ}

/* Sets the baud rate divider from the peripheral clock, clears stale state and enables TX and RX. */
void cmsdk_uart_init(const cmsdk_uart_t *uart, uint32_t pclk_hz, uint32_t baud);

/* Sends one byte, waiting while the transmit buffer is full. */
void cmsdk_uart_putc(const cmsdk_uart_t *uart, char c);

/* Sends n bytes / a NUL-terminated string as is (no newline translation). */
void cmsdk_uart_write(const cmsdk_uart_t *uart, const void *data, size_t n);
void cmsdk_uart_puts(const cmsdk_uart_t *uart, const char *s);

/* The received byte (0..255), or -1 at once when none is waiting. */
int cmsdk_uart_getc_nowait(const cmsdk_uart_t *uart);

/* The next received byte (0..255), waiting as long as it takes. */
int cmsdk_uart_getc(const cmsdk_uart_t *uart);

/* Reads one line: bytes up to '\n' (not stored), a '\r' before it dropped, NUL-terminated in buf.
 * Bytes that do not fit in size - 1 are read and discarded. Returns the length of the whole line,
 * like snprintf: a result >= size means the line was cut. size must be at least 1. */
size_t cmsdk_uart_read_line(const cmsdk_uart_t *uart, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* CMSDK_UART_H */
