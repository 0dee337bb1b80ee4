# Cross build for ARM64 Linux (Jetson-class boards) with Debian's aarch64 toolchain
# (crossbuild-essential-arm64) against the :arm64 multiarch packages in /usr/lib/aarch64-linux-gnu.
# scripts/cross_test.sh installs what this needs, configures with it and runs the tests under qemu.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Multiarch: one root for both architectures; libraries and CMake packages are found under
# lib/aarch64-linux-gnu of every prefix, never under the x86-64 directories.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# pkg-config reads the arm64 .pc files (Debian has no aarch64-linux-gnu-pkg-config without pkgconf:arm64).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Test programs (and anything CMake runs at build time, such as gtest_discover_tests) run under
# qemu-user. binfmt_misc may be absent, so qemu is called directly; -L gives it the arm64 loader and C
# library of the cross toolchain, and the multiarch libraries are found at their usual paths.
find_program(PICE_QEMU_AARCH64 qemu-aarch64)
if(PICE_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${PICE_QEMU_AARCH64};-L;/usr/aarch64-linux-gnu")
endif()
