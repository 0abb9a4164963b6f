// Package contract validates HTTP traffic against the OpenAI Admin API spec
// (../shared/openapi/openai-admin.yaml beside the repository) with kin-openapi.
//
// Locating the spec: $ORGWARDEN_OPENAPI_SPEC if set, else walk up from the
// working directory to the directory holding go.mod and take
// ../shared/openapi/openai-admin.yaml from there. RequireSpec skips a test,
// naming that path, when the file is absent. A loaded Spec is parsed once per
// process and shared.
//
// Validator.Middleware wraps an http.Handler (the emulator) and checks every
// request and response against the operation found by method and path:
//
//   - A request is checked for path, query and body parameters and for a
//     bearer token. Query keys that match no declared parameter are violations.
//   - A 2xx response must be declared by the operation and match its schema
//     (the spec declares 200 everywhere, so a 201 or 204 is a violation).
//   - A non-2xx response the operation declares (400, 429) is validated like
//     any other, headers included (Retry-After on 429). One it does not declare
//     (401, 403, 404, 5xx, and 429 on most operations) is allowed, as with
//     kin-openapi's IncludeResponseStatus=false, but its body must still be an
//     ErrorResponse: the spec says that is what errors look like.
//
// A request violation answered with a non-2xx status is marked Rejected: the
// client broke the contract and the server refused it, which is what a test
// of bad input wants. Failures() leaves those out.
//
// Spec quirks handled here, without switching validation off:
//
//   - effective_at on audit logs is an object parameter with no declared style.
//     Clients send effective_at[gt]=..., which kin-openapi would ignore as an
//     unknown key. The loaded spec declares such parameters deepObject in
//     memory, so the bracket form is decoded and its values type-checked;
//     unknown sub-keys (effective_at[zz]) are reported.
//   - The SDK sends arrays as key[]=v, also for parameters the spec names
//     without brackets (emails on users). Queries are mapped onto the declared
//     names in both directions before validation.
//
// Violation messages come from kin-openapi's reasons, which do not carry the
// offending value, and are passed through logging.Redact in any case.
package contract
