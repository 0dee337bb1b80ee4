// The ThreadSanitizer settings every executable of a -DPICE_SANITIZE=thread build needs; added to
// each executable by CMake (pice_add_sanitizer_options), so plain `ctest` and `pice` use them.
//
// libzmq (from Debian) is not instrumented, so TSan cannot see the lock-free queues it uses to
// hand a message from one thread to another (the sender's pump thread, its I/O thread, the
// receiver's pump thread). Every message then looks like a race on the memory libzmq allocated and
// copied through its intercepted malloc/memcpy/recv, and reporting each new address makes the suite
// crawl (about 100 messages/s). ignore_noninstrumented_modules makes those interceptors ignore calls
// made from uninstrumented libraries, which removes exactly these false reports; races in our own
// (instrumented) code are still reported.

#if defined(__SANITIZE_THREAD__)
// CAF (also from Debian, also uninstrumented) hands messages between its threads the same way.
extern "C" const char* __tsan_default_options() { return "ignore_noninstrumented_modules=1"; }
#endif
