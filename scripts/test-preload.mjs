// Loaded into every test file's process (`node --import` in package.json's test script): its stdout is a pipe to the
// test runner, and --test-force-exit ends the process once its tests are done. Writes to a pipe are asynchronous, so
// that exit could cut the file's report short, and the runner then counted fewer tests, with exit 0 (seen here: 65 of
// policy.test's 80 tests in 5 of 10 runs; nodejs/node#64833). Blocking writes make the whole report reach the runner.
process.stdout._handle?.setBlocking?.(true);
