"""Deploying to boards, offline, in three parts, each below the next:

- ``pio``: driving PlatformIO: the offline kit (``kit``), reading and checking a project's ``platformio.ini``
  (``config``), running ``pio`` with the app's core and streaming its log (``runner``), and the build job
  (``build``);
- ``running``: running firmware: the lines it prints (``result_line``), uploading it (``flash``), reading a
  board's serial port (``monitor``), the emulated board under QEMU (``emulated``) and the Python impulse's
  scores for the same windows (``agreement``);
- ``export``: rendering firmware projects, capture firmware and C libraries from a training run
  (``project``), the PlatformIO environments and the deploy targets (``targets``) and putting them in place
  (``place``).
"""
