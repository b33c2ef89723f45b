/* Start-up code for bare-metal C programs on emulated Cortex-M boards (QEMU mps2-an385/an386/an500/an505).
 *
 * The reset handler copies .data, zeroes .bss, enables the FPU on hard-float builds, paints the free
 * stack with a pattern (for baremetal_stack_used), guards the stack against overflow (an MPU region
 * below it, or MSPLIM on ARMv8-M), initialises semihosting and calls main; main's
 * return value leaves QEMU as its exit code. Every exception that is not handled prints one line
 * through semihosting and exits with BAREMETAL_FAULT_EXIT instead of spinning forever.
 *
 * Written for C99 with GCC extensions (attributes, inline assembly); Thumb-1 safe for ARMv6-M. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "baremetal.h"

#define STACK_PAINT 0xC0FFEE5Au

#define SEMIHOST_SYS_WRITE0 0x04
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20
#define SEMIHOST_APPLICATION_EXIT 0x20026

/* From the linker script. */
extern uint32_t __data_start__[], __data_end__[], __data_load__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __StackLimit[], __StackTop[];
extern uint32_t __stack_guard__[];
extern char __heap_start__[], __heap_end__[];

extern int main(void);
extern void initialise_monitor_handles(void);

void Reset_Handler(void);
void Fault_Handler(void);

static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* ---- exceptions ----------------------------------------------------------------------------------- */

/* Every slot not overridden by the program ends here; a program may define e.g. IRQ0_Handler itself. */
#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Fault_Handler")))
WEAK_HANDLER(NMI_Handler);
WEAK_HANDLER(HardFault_Handler);
WEAK_HANDLER(MemManage_Handler);
WEAK_HANDLER(BusFault_Handler);
WEAK_HANDLER(UsageFault_Handler);
WEAK_HANDLER(SecureFault_Handler);
WEAK_HANDLER(SVC_Handler);
WEAK_HANDLER(DebugMon_Handler);
WEAK_HANDLER(PendSV_Handler);
WEAK_HANDLER(SysTick_Handler);


WEAK_HANDLER(IRQ0_Handler); WEAK_HANDLER(IRQ1_Handler); WEAK_HANDLER(IRQ2_Handler); WEAK_HANDLER(IRQ3_Handler);
WEAK_HANDLER(IRQ4_Handler); WEAK_HANDLER(IRQ5_Handler); WEAK_HANDLER(IRQ6_Handler); WEAK_HANDLER(IRQ7_Handler);
WEAK_HANDLER(IRQ8_Handler); WEAK_HANDLER(IRQ9_Handler); WEAK_HANDLER(IRQ10_Handler); WEAK_HANDLER(IRQ11_Handler);
WEAK_HANDLER(IRQ12_Handler); WEAK_HANDLER(IRQ13_Handler); WEAK_HANDLER(IRQ14_Handler); WEAK_HANDLER(IRQ15_Handler);
WEAK_HANDLER(IRQ16_Handler); WEAK_HANDLER(IRQ17_Handler); WEAK_HANDLER(IRQ18_Handler); WEAK_HANDLER(IRQ19_Handler);
WEAK_HANDLER(IRQ20_Handler); WEAK_HANDLER(IRQ21_Handler); WEAK_HANDLER(IRQ22_Handler); WEAK_HANDLER(IRQ23_Handler);
WEAK_HANDLER(IRQ24_Handler); WEAK_HANDLER(IRQ25_Handler); WEAK_HANDLER(IRQ26_Handler); WEAK_HANDLER(IRQ27_Handler);
WEAK_HANDLER(IRQ28_Handler); WEAK_HANDLER(IRQ29_Handler); WEAK_HANDLER(IRQ30_Handler); WEAK_HANDLER(IRQ31_Handler);
WEAK_HANDLER(IRQ32_Handler); WEAK_HANDLER(IRQ33_Handler); WEAK_HANDLER(IRQ34_Handler); WEAK_HANDLER(IRQ35_Handler);
WEAK_HANDLER(IRQ36_Handler); WEAK_HANDLER(IRQ37_Handler); WEAK_HANDLER(IRQ38_Handler); WEAK_HANDLER(IRQ39_Handler);
WEAK_HANDLER(IRQ40_Handler); WEAK_HANDLER(IRQ41_Handler); WEAK_HANDLER(IRQ42_Handler); WEAK_HANDLER(IRQ43_Handler);
WEAK_HANDLER(IRQ44_Handler); WEAK_HANDLER(IRQ45_Handler); WEAK_HANDLER(IRQ46_Handler); WEAK_HANDLER(IRQ47_Handler);
WEAK_HANDLER(IRQ48_Handler); WEAK_HANDLER(IRQ49_Handler); WEAK_HANDLER(IRQ50_Handler); WEAK_HANDLER(IRQ51_Handler);
WEAK_HANDLER(IRQ52_Handler); WEAK_HANDLER(IRQ53_Handler); WEAK_HANDLER(IRQ54_Handler); WEAK_HANDLER(IRQ55_Handler);
WEAK_HANDLER(IRQ56_Handler); WEAK_HANDLER(IRQ57_Handler); WEAK_HANDLER(IRQ58_Handler); WEAK_HANDLER(IRQ59_Handler);
WEAK_HANDLER(IRQ60_Handler); WEAK_HANDLER(IRQ61_Handler); WEAK_HANDLER(IRQ62_Handler); WEAK_HANDLER(IRQ63_Handler);

typedef void (*vector_t)(void);

/* 16 system slots and 64 interrupts (enough for the CMSDK UARTs of every mps2 board). */
__attribute__((used, section(".vectors"))) const vector_t baremetal_vectors[16 + 64] = {
    (vector_t)(uintptr_t)__StackTop, Reset_Handler, NMI_Handler, HardFault_Handler,
    MemManage_Handler, BusFault_Handler, UsageFault_Handler, SecureFault_Handler,
    0, 0, 0, SVC_Handler,
    DebugMon_Handler, 0, PendSV_Handler, SysTick_Handler,
    IRQ0_Handler, IRQ1_Handler, IRQ2_Handler, IRQ3_Handler, IRQ4_Handler, IRQ5_Handler, IRQ6_Handler, IRQ7_Handler,
    IRQ8_Handler, IRQ9_Handler, IRQ10_Handler, IRQ11_Handler, IRQ12_Handler, IRQ13_Handler, IRQ14_Handler,
    IRQ15_Handler, IRQ16_Handler, IRQ17_Handler, IRQ18_Handler, IRQ19_Handler, IRQ20_Handler, IRQ21_Handler,
    IRQ22_Handler, IRQ23_Handler, IRQ24_Handler, IRQ25_Handler, IRQ26_Handler, IRQ27_Handler, IRQ28_Handler,
    IRQ29_Handler, IRQ30_Handler, IRQ31_Handler, IRQ32_Handler, IRQ33_Handler, IRQ34_Handler, IRQ35_Handler,
    IRQ36_Handler, IRQ37_Handler, IRQ38_Handler, IRQ39_Handler, IRQ40_Handler, IRQ41_Handler, IRQ42_Handler,
    IRQ43_Handler, IRQ44_Handler, IRQ45_Handler, IRQ46_Handler, IRQ47_Handler, IRQ48_Handler, IRQ49_Handler,
    IRQ50_Handler, IRQ51_Handler, IRQ52_Handler, IRQ53_Handler, IRQ54_Handler, IRQ55_Handler, IRQ56_Handler,
    IRQ57_Handler, IRQ58_Handler, IRQ59_Handler, IRQ60_Handler, IRQ61_Handler, IRQ62_Handler, IRQ63_Handler,
};

static const char *exception_name(uint32_t n)
{
    switch (n) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage fault";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "SVCall";
    case 12: return "DebugMonitor";
    case 14: return "PendSV";
    case 15: return "SysTick";
    default: return n >= 16 ? "unexpected IRQ" : "unexpected exception";
    }
}

static char *put_str(char *p, const char *s)
{
    while (*s) {
        *p++ = *s++;
    }
    return p;
}

static char *put_hex(char *p, uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    int shift;
    p = put_str(p, "0x");
    for (shift = 28; shift >= 0; shift -= 4) {
        *p++ = digits[(v >> shift) & 0xFu];
    }
    return p;
}

static char *put_dec(char *p, uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n) {
        *p++ = digits[--n];
    }
    return p;
}

static const char STACK_OVERFLOW[] = "stack overflow";

#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
#define HAVE_CFSR 1
/* The first cause recorded in the configurable fault status register, in a few words. */
static const char *fault_cause(uint32_t cfsr)
{
    static const struct {
        uint32_t bit;
        const char *text;
    } causes[] = {
        {1u << 0, "instruction fetch from a no-execute region"}, {1u << 1, "data access violation"},
        {1u << 8, "instruction bus error"}, {1u << 9, "precise data bus error"},
        {1u << 10, "imprecise data bus error"}, {1u << 12, "bus error while stacking"},
        {1u << 16, "undefined instruction"}, {1u << 17, "invalid state (ARM mode or bad EXC_RETURN)"},
        {1u << 18, "invalid PC load"}, {1u << 19, "coprocessor (FPU) not present or disabled"},
        {1u << 20, STACK_OVERFLOW}, {1u << 24, "unaligned access"}, {1u << 25, "divide by zero"},
    };
    size_t i;
    for (i = 0; i < sizeof causes / sizeof causes[0]; i++) {
        if (cfsr & causes[i].bit) {
            return causes[i].text;
        }
    }
    return NULL;
}
#endif

/* Called by Fault_Handler with the stacked exception frame (r0-r3, r12, lr, pc, xpsr). */
__attribute__((used, noreturn)) void baremetal_fault_report(const uint32_t *frame)
{
    char line[200];
    char *p = line;
    uint32_t ipsr;
    uint32_t block[2];

    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1FFu;
    p = put_str(p, "baremetal: ");
    p = put_str(p, exception_name(ipsr));
    p = put_str(p, " (exception ");
    p = put_dec(p, ipsr);
    p = put_str(p, ")");
    {
        /* After a stack overflow the frame is in the guard (MPU) or at the limit (MSPLIM), not stacked:
         * there is no pc to show. */
        uintptr_t at = (uintptr_t)frame;
        int unstacked = at <= (uintptr_t)__StackLimit && at >= (uintptr_t)__stack_guard__;
        const char *cause = NULL;
#ifdef HAVE_CFSR
        cause = fault_cause(*(volatile const uint32_t *)0xE000ED28u);
#endif
        if (unstacked || cause == STACK_OVERFLOW) { /* the latter: MSPLIM caught an SP update */
            p = put_str(p, ": ");
            p = put_str(p, STACK_OVERFLOW);
            p = put_str(p, " (");
            p = put_dec(p, baremetal_stack_size());
            p = put_str(p, " bytes of stack; more with -Wl,--defsym,__stack_size=N)");
        } else if (cause) {
            p = put_str(p, ": ");
            p = put_str(p, cause);
        }
        if (!unstacked) {
            p = put_str(p, " at pc=");
            p = put_hex(p, frame[6]);
        }
    }
#ifdef HAVE_CFSR
    {
        uint32_t cfsr = *(volatile const uint32_t *)0xE000ED28u;
        p = put_str(p, " cfsr=");
        p = put_hex(p, cfsr);
        if (cfsr & (1u << 15)) { /* BFAR valid */
            p = put_str(p, " address=");
            p = put_hex(p, *(volatile const uint32_t *)0xE000ED38u);
        } else if (cfsr & (1u << 7)) { /* MMFAR valid */
            p = put_str(p, " address=");
            p = put_hex(p, *(volatile const uint32_t *)0xE000ED34u);
        }
    }
#endif
    p = put_str(p, "\n");
    *p = '\0';
    semihost(SEMIHOST_SYS_WRITE0, line);

    block[0] = SEMIHOST_APPLICATION_EXIT;
    block[1] = BAREMETAL_FAULT_EXIT;
    semihost(SEMIHOST_SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

/* Finds the frame on whichever stack was in use (bit 2 of EXC_RETURN) and reports. Thumb-1 only.
 * On ARMv8-M the stack limit is lifted first: after a stack overflow the report itself needs stack
 * below the limit (QEMU 7.2 ignores CCR.STKOFHFNMIGN, which would allow that). */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile(
#if defined(__ARM_ARCH_8M_MAIN__)
        "movs r0, #0\n"
        "msr msplim, r0\n"
#endif
        "movs r0, #4\n"
        "mov r1, lr\n"
        "tst r0, r1\n"
        "beq 1f\n"
        "mrs r0, psp\n"
        "b 2f\n"
        "1:\n"
        "mrs r0, msp\n"
        "2:\n"
        "ldr r2, =baremetal_fault_report\n"
        "bx r2\n"
        ".ltorg\n");
}

/* ---- stack guard ---------------------------------------------------------------------------------- */

#define MPU_TYPE (*(volatile uint32_t *)0xE000ED90u)
#define MPU_CTRL (*(volatile uint32_t *)0xE000ED94u)
#define MPU_RNR (*(volatile uint32_t *)0xE000ED98u)
#define MPU_RBAR (*(volatile uint32_t *)0xE000ED9Cu)
#define MPU_RASR (*(volatile uint32_t *)0xE000EDA0u)

static void guard_stack(void)
{
#if defined(__ARM_ARCH_8M_MAIN__)
    /* Pushing below MSPLIM raises a stack-overflow UsageFault (Fault_Handler lifts the limit). */
    __asm__ volatile("msr msplim, %0" : : "r"(__StackLimit));
#elif defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
    /* PMSAv7: region 0 = the 1 KB guard, no access, never executable. The default memory map stays for
     * everything else (PRIVDEFENA), and the MPU is off in HardFault (HFNMIENA clear), so the fault is
     * stacked into the guard and reported. Skipped on a core built without an MPU. */
    if ((MPU_TYPE >> 8) & 0xFFu) {
        MPU_RNR = 0;
        MPU_RBAR = (uint32_t)(uintptr_t)__stack_guard__;
        MPU_RASR = (1u << 28) | (9u << 1) | 1u; /* XN, AP=no access, 2^(9+1) bytes, enabled */
        MPU_CTRL = (1u << 2) | 1u;
        __asm__ volatile("dsb\n\tisb" ::: "memory");
    }
#endif
}

/* ---- reset ----------------------------------------------------------------------------------------- */

__attribute__((noreturn)) void Reset_Handler(void)
{
    /* volatile keeps GCC from turning the loops into memcpy/memset calls */
    volatile uint32_t *dst;
    const volatile uint32_t *src;
    uint32_t sp;

    for (src = __data_load__, dst = __data_start__; dst < __data_end__;) {
        *dst++ = *src++;
    }
    for (dst = __bss_start__; dst < __bss_end__;) {
        *dst++ = 0;
    }

#if defined(__ARM_FP)
    /* Full access to CP10 and CP11 before any floating-point instruction runs. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif

    /* Paint everything below the current stack pointer; nothing is called while painting. */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (dst = __StackLimit; (uint32_t)(uintptr_t)dst < sp;) {
        *dst++ = STACK_PAINT;
    }

    guard_stack();
    initialise_monitor_handles();
    exit(main());
}

/* ---- services -------------------------------------------------------------------------------------- */

uint32_t baremetal_stack_used(void)
{
    const uint32_t *p = __StackLimit;
    while (p < __StackTop && *p == STACK_PAINT) {
        p++;
    }
    return (uint32_t)((uintptr_t)__StackTop - (uintptr_t)p);
}

uint32_t baremetal_stack_size(void)
{
    return (uint32_t)((uintptr_t)__StackTop - (uintptr_t)__StackLimit);
}

/* The body is empty but opaque, and noinline keeps a real call: the counting plugin watches this address. */
__attribute__((noinline, used)) void baremetal_mark(void)
{
    __asm__ volatile("" ::: "memory");
}

/* The heap runs from the end of .bss up to the stack guard (newlib's malloc calls this). */
void *_sbrk(ptrdiff_t increment)
{
    static char *brk = __heap_start__;
    char *previous = brk;
    if (increment > __heap_end__ - brk || increment < __heap_start__ - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    brk += increment;
    return previous;
}
