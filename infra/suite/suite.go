// Package suite holds the test suites that attack the whole local stack
// (the local API, the functions' handlers, DynamoDB Local): malformed
// requests, forged tokens, the access matrix, characters that mean
// something in DynamoDB keys, and DynamoDB faults. Each suite logs a
// "suite NAME: N cases, N passed, N 5xx" line that `make results` collects.
package suite
