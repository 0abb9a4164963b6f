// Package deploycheck holds only tests: they replay what AWS does while
// CloudFormation creates the stack, against the synthesized template, so a
// first deployment cannot roll back on something a test can see.
//
// Secrets Manager runs the rotation function's testSecret step when a
// rotation schedule is created without rotating (RotateImmediately false):
// the test takes keyrotation's environment from the template, builds the
// handler with it against the local Secrets Manager holding the placeholder
// secrets the template creates, and makes that call for every schedule.
//
// It is separate from infra/stack so that the CDK assertions never depend on
// function code (as infra/crosscheck), and it synthesizes its own stack with
// the default configuration, the one a first deployment uses.
package deploycheck
