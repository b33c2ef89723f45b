"""Deploying to boards, offline, in three parts, each below the next:

- ``pio``: driving PlatformIO: the offline kit (``kit``), reading and checking a project's ``platformio.ini``
  (``config``), running ``pio`` with the app's core and streaming its log (``runner``), and the build job
  (``build``);
- ``running``: running firmware: the lines it prints (``result_line``), uploading it (``flash``), reading a
  board's serial port (``monitor``), the emulated board under QEMU (``emulated``) and what it can be fed
  (``streams``), and the Python impulse's scores for the same windows (``agreement``);
- ``export``: rendering a training run for a board: the deploy targets' registry (``targets``) and one
  module per target (``firmware``, ``capture``, ``library``), the template contexts and PlatformIO
  environments they share (``context``, ``impulse_files``), the staging writer (``writer``), putting the
  result in place (``place``), and the export job (``project``).
"""
