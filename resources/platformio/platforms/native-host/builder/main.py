"""Build script of the offline native platform: the host gcc builds ``program``; ``exec``/``upload`` run it.

``custom_exec_args`` in the environment's section of platformio.ini are passed to the program.
"""

import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()

if not env.WhereIs("gcc"):
    sys.stderr.write("toolchain not found: gcc (install the host compiler: apt-get install gcc)\n")
    env.Exit(1)

env.Replace(
    CC="gcc",
    CXX="g++",
    AS="gcc",
    AR="ar",
    RANLIB="ranlib",
    PROGNAME=env.get("PROGNAME", "program"),
    PROGSUFFIX="",
)
env.Append(CFLAGS=["-std=gnu11"], CCFLAGS=["-Wall"], LIBS=["m"])

program = env.BuildProgram()

exec_action = env.VerboseAction("$SOURCE {}".format(env.GetProjectOption("custom_exec_args", "")), "Executing $SOURCE")
AlwaysBuild(env.Alias("exec", program, exec_action))
if env.GetProjectOption("upload_command", ""):
    AlwaysBuild(env.Alias("upload", program, env.VerboseAction("$UPLOADCMD", "Uploading $SOURCE")))
else:
    AlwaysBuild(env.Alias("upload", program, exec_action))

Default([program])
