"""Generated code builds with the compilers PlatformIO installs for real boards, as far as this machine
can check: GCC 6.3 to 7.x (nordicnrf52, ststm32's mbed boards) and 9.2.1 (raspberrypi) have an
``arm_acle.h`` without the SIMD32 intrinsics (GCC added them in 10). An ``arm_acle.h`` like theirs goes
ahead of the system one; the model and DSP code must still compile without an implicit declaration,
link, and give LiteRT's reference outputs on the emulated Cortex-M4."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from conftest import SHARED

from studio.compiler import compile_model
from studio.compiler.verify import Compiled, read_outputs, reference_outputs, write_harness, write_inputs
from studio.cortexm import run, toolchain

pytestmark = pytest.mark.skipif(toolchain.available() is not None, reason=str(toolchain.available()))

# what GCC 9's arm_acle.h offers a Cortex-M4 (coprocessor and CRC32 intrinsics), and nothing of SIMD32
OLD_ACLE = """\
#ifndef _GCC_ARM_ACLE_H
#define _GCC_ARM_ACLE_H
#include <stdint.h>
#define TMS_TEST_OLD_ACLE 1
static inline uint32_t __ror(uint32_t x, uint32_t y) { return (x >> (y & 31)) | (x << ((32 - y) & 31)); }
#endif
"""
FLAGS = ("-Werror", "-Werror=implicit-function-declaration")


@pytest.fixture
def old_acle(tmp_path):
    folder = tmp_path / "gcc9-include"
    folder.mkdir()
    (folder / "arm_acle.h").write_text(OLD_ACLE)
    return folder


def test_the_header_stands_in_for_the_system_one(old_acle, tmp_path):
    """What the old kernels did (ACLE's __smlad) fails with it, so the tests below mean something."""
    probe = tmp_path / "probe.c"
    probe.write_text("#include <arm_acle.h>\n#ifndef TMS_TEST_OLD_ACLE\n#error the system header was used\n#endif\n"
                     "int f(unsigned a, unsigned b) { return (int)__smlad(a, b, 0); }\n")
    out = subprocess.run([toolchain.ARM_GCC, "-mcpu=cortex-m4", "-mthumb", "-std=c99", "-I", str(old_acle), *FLAGS,
                          "-c", str(probe), "-o", str(tmp_path / "probe.o")], capture_output=True, text=True)
    assert out.returncode != 0 and "implicit declaration of function '__smlad'" in out.stderr


@pytest.mark.skipif(not (SHARED / "reference_models" / "kws_ref_model.tflite").exists(),
                    reason="the MLPerf Tiny reference models are not in ../shared")
def test_the_simd_model_builds_links_and_is_exact_with_an_old_arm_acle(old_acle, tmp_path):
    model = (SHARED / "reference_models" / "kws_ref_model.tflite").read_bytes()  # conv, depthwise, fc, pool
    result = compile_model(model, tmp_path / "kws", prefix="kws")
    compiled = Compiled(tmp_path / "kws", "kws", result.input["size"], result.output["size"])
    inputs = np.random.default_rng(0).integers(-128, 128, (3, compiled.input_size), dtype=np.int8)
    runs = write_inputs(tmp_path, [compiled], [inputs])
    harness = write_harness(tmp_path, [compiled], runs, baremetal=True)
    elf = toolchain.build_elf([harness, tmp_path / "kws" / "kws.c"], tmp_path / "kws.elf", "cortex-m4",
                              include_dirs=[tmp_path / "kws"], extra_flags=("-I", str(old_acle), *FLAGS))
    dump = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True)
    assert "smlad" in dump.stdout and "sxtb16" in dump.stdout and "smlabb" in dump.stdout  # the SIMD path
    out = run(elf, "cortex-m4", cwd=tmp_path)
    assert out.exit_code == 0, out.stdout
    np.testing.assert_array_equal(read_outputs(tmp_path, [compiled], runs)[0], reference_outputs(model, inputs))


@pytest.mark.parametrize("which", ["gesture", "keyword"])
def test_the_impulse_dsp_and_model_build_and_link_with_an_old_arm_acle(which, request, old_acle, tmp_path):
    from studio.impulse_c import render_for_run

    trained = request.getfixturevalue(f"{which}_run")
    out = tmp_path / "impulse"
    compile_model(trained.run.model_bytes("int8"), out, prefix="model")
    render_for_run(trained.run, out)
    main = tmp_path / "main.c"
    main.write_text('#include "impulse.h"\nstatic float raw[IMPULSE_RAW_COUNT];\n'
                    "static float scores[IMPULSE_CLASS_COUNT];\n"
                    "int main(void) { return run_impulse(raw, IMPULSE_RAW_COUNT, scores) != 0; }\n")
    sources = [main, out / "model.c", out / "impulse.c", out / "impulse_run.c"]
    elf = toolchain.build_elf(sources, tmp_path / "impulse.elf", "cortex-m4", include_dirs=[out],
                              extra_flags=("-I", str(old_acle), *FLAGS))
    assert run(elf, "cortex-m4", cwd=tmp_path).exit_code == 0
