"""Build script of the tinyml-cortexm platform (folder generic-cortexm).

The compiler is the package ``toolchain-gccarmnoneeabi`` (links to the system arm-none-eabi tools), called by
absolute path so a broken package fails with ``toolchain not found: PATH`` instead of silently using
another compiler. The board's ``build.cpu``, ``build.fpu`` and ``build.float_abi`` select the code and the
newlib multilib; TinyML Studio's start-up code (``baremetal/startup.c``: vectors, reset handler, fault
reports, semihosting set-up) is linked in, with the board's linker script from ``baremetal/``.

Targets: the default builds ``firmware.elf`` and ``firmware.bin`` and prints PlatformIO's RAM/Flash lines;
``size`` prints the sections; ``exec`` runs the ELF on the board's QEMU machine with semihosting (stdout to
the console, ``main``'s return value as exit code); ``upload`` does the same unless ``upload_protocol =
custom`` with an ``upload_command``.
"""

import os
import sys

from SCons.Script import AlwaysBuild, Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
platform = env.PioPlatform()
board = env.BoardConfig()


def fail(message):
    sys.stderr.write(message + "\n")
    env.Exit(1)


def baremetal_dir():
    """The start-up code and linker scripts: copied into the installed platform, or the repository's own."""
    here = platform.get_dir()
    for candidate in (os.path.join(here, "baremetal"), os.path.join(here, "..", "..", "..", "baremetal")):
        if os.path.isfile(os.path.join(candidate, "startup.c")):
            return os.path.realpath(candidate)
    fail(f"tinyml-cortexm: start-up code not found in {here}/baremetal (reinstall the offline kit)")
    return None


toolchain = platform.get_package_dir("toolchain-gccarmnoneeabi")
if not toolchain:
    packages = platform.config.get("platformio", "packages_dir")
    fail(f"toolchain not found: package toolchain-gccarmnoneeabi is not installed in {packages}")
bin_dir = os.path.join(toolchain, "bin")


def tool(name):
    path = os.path.join(bin_dir, "arm-none-eabi-" + name)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):  # isfile follows links: a dangling one fails
        target = os.readlink(path) if os.path.islink(path) else None
        fail("toolchain not found: {}{}".format(path, f" (links to missing {target})" if target else ""))
    return path


cpu = board.get("build.cpu")
fpu = board.get("build.fpu", "")
float_abi = board.get("build.float_abi", "hard" if fpu else "soft")
machine_flags = ["-mthumb", f"-mcpu={cpu}", f"-mfloat-abi={float_abi}"]
if fpu and float_abi != "soft":
    machine_flags.append(f"-mfpu={fpu}")
bm = baremetal_dir()

env.Replace(
    AR=tool("gcc-ar"),
    AS=tool("gcc"),
    CC=tool("gcc"),
    CXX=tool("g++"),
    GDB=os.path.join(bin_dir, "arm-none-eabi-gdb"),
    OBJCOPY=tool("objcopy"),
    RANLIB=tool("gcc-ranlib"),
    SIZETOOL=tool("size"),
    ARFLAGS=["rc"],
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
)
env.Append(
    ASFLAGS=machine_flags + ["-x", "assembler-with-cpp"],
    CCFLAGS=machine_flags + ["-Os", "-ffunction-sections", "-fdata-sections", "-Wall"],
    CFLAGS=["-std=gnu11"],
    CXXFLAGS=["-std=gnu++17", "-fno-rtti", "-fno-exceptions"],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU")],
    CPPPATH=[bm],
    LIBPATH=[bm],
    # -nostartfiles: the reset handler is startup.c's, not librdimon's crt0
    LINKFLAGS=machine_flags + ["-nostartfiles", "--specs=nano.specs", "--specs=rdimon.specs", "-Wl,--gc-sections"],
    LIBS=["m"],
    BUILDERS=dict(
        ElfToBin=Builder(action=env.VerboseAction("$OBJCOPY -O binary $SOURCES $TARGET", "Building $TARGET"),
                         suffix=".bin"),
    ),
)
if not board.get("build.ldscript", ""):
    fail("tinyml-cortexm: the board has no build.ldscript")

env.BuildSources(os.path.join("$BUILD_DIR", "baremetal"), bm, "-<*> +<startup.c>")
target_elf = env.BuildProgram()
target_bin = env.ElfToBin(os.path.join("$BUILD_DIR", "${PROGNAME}"), target_elf)

AlwaysBuild(env.Alias("size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE")))

qemu_command = " ".join([
    "qemu-system-arm", "-M", board.get("qemu.machine", "mps2-an386"), "-nographic", "-monitor", "none",
    "-semihosting-config", "enable=on,target=native", "-kernel", "$SOURCE",
])
exec_action = env.VerboseAction(qemu_command, "Running $SOURCE on QEMU {}".format(board.get("qemu.machine", "")))
AlwaysBuild(env.Alias("exec", target_elf, exec_action))
if env.subst("$UPLOAD_PROTOCOL") == "custom":
    AlwaysBuild(env.Alias("upload", target_bin, env.VerboseAction("$UPLOADCMD", "Uploading $SOURCE")))
else:
    AlwaysBuild(env.Alias("upload", target_elf, exec_action))

Default([target_elf, target_bin])
