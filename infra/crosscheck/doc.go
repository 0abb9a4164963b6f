// Package crosscheck holds only tests: they feed the environment the stack gives
// each function (infra/fnenv) and the payload its schedules send into the
// functions' own parsers, so the stack and the functions cannot drift apart.
//
// It is separate from infra/stack so that a function package being edited can
// never stop the CDK assertions from compiling, and it imports no CDK code.
package crosscheck
