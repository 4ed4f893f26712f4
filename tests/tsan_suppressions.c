/* ThreadSanitizer's suppressions, built into every test binary of a TSan tree (tests/CMakeLists.txt),
 * so that ctest run by hand sees the same reports as scripts/test.sh. Both concern Debian's shared
 * libraries, which are built without TSan: synchronisation inside them is invisible to it. Every
 * access of instrumented code (cace, the tests) is still checked.
 *
 * absl::Status shares one reference-counted rep between its copies, and the count's atomic
 * decrement happens inside libabsl_status (UnrefNonInlined). When the last copy dies on another
 * thread than one that copied or read the status (a RequestResult made on the engine's thread,
 * copied into a test's recorder, the recorder's copy gone first), TSan sees the free of the rep
 * unordered after that access and reports a race that the count's acquire-release order rules
 * out. The suppression covers only stacks through Status::Unref, the inline function that hands
 * the last reference to the library.
 *
 * cpp-httplib keeps function-local statics (the regexes it parses with, constant strings it
 * writes), published through a guard in its own code: a first use on one thread and a later one on
 * another read as a race. Accesses the library itself makes are ignored (server_http_tests also
 * makes the client side's statics before its client threads start). */
const char* __tsan_default_suppressions(void);
const char* __tsan_default_suppressions(void) {
  return "race:absl::*Status::Unref\n"
         "called_from_lib:libcpp-httplib.so\n";
}
