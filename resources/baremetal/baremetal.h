/* Support for bare-metal programs run by TinyML Studio on emulated Cortex-M boards (QEMU mps2).
 *
 * startup.c provides the vector table and reset handler: .data is copied, .bss zeroed, the FPU
 * enabled on hard-float builds, the stack painted, semihosting initialised, then main() runs and
 * its return value becomes QEMU's exit code. Faults print one line and exit with
 * BAREMETAL_FAULT_EXIT, so a crashing program never hangs the emulator. */
#ifndef BAREMETAL_H
#define BAREMETAL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit code of a program stopped by a fault or an unexpected exception. */
#define BAREMETAL_FAULT_EXIT 250

/* Bytes of stack ever used since reset (the high-water mark of the painted stack). */
uint32_t baremetal_stack_used(void);

/* Bytes reserved for the stack (set at link time with -Wl,--defsym,__stack_size=N). */
uint32_t baremetal_stack_size(void);

/* A point the instruction-counting plugin records: each call appends the number of guest
 * instructions executed so far. Call it just before and just after the code to measure. */
void baremetal_mark(void);

#ifdef __cplusplus
}
#endif

#endif /* BAREMETAL_H */
