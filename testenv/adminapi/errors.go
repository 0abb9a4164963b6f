package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an OpenAI error response: {"error":{"message","type","param","code"}}.
type apiError struct {
	status  int
	typ     string
	message string
	param   string // "" renders as null
	code    string // "" renders as null
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.typ, e.message) }

var errUnknownCursor = errors.New("unknown cursor")

func invalid(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", message: fmt.Sprintf(format, args...), param: param}
}

func notFound(kind, id string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", message: fmt.Sprintf("No %s found with id '%s'.", kind, id), code: "not_found"}
}

func unknownCursor(param, id string) *apiError {
	return invalid(param, "No object with id '%s' in this list; use an id from a previous page.", id)
}

var (
	errNoAuth = &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error",
		message: "You didn't provide an API key. Provide your admin key in an Authorization header using Bearer auth.", code: "missing_api_key"}
	errBadKey = &apiError{status: http.StatusUnauthorized, typ: "invalid_request_error",
		message: "Incorrect API key provided.", code: "invalid_api_key"}
	errNotAdmin = &apiError{status: http.StatusForbidden, typ: "invalid_request_error",
		message: "You have insufficient permissions for this operation. Admin endpoints require an admin API key (sk-admin-...).", code: "insufficient_permissions"}
)

func writeError(w http.ResponseWriter, e *apiError) {
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}
	b := body{Message: e.message, Type: e.typ}
	if e.param != "" {
		b.Param = &e.param
	}
	if e.code != "" {
		b.Code = &e.code
	}
	writeJSON(w, e.status, map[string]body{"error": b})
}

// rawJSON is a response body that is already JSON; it is sent as is.
type rawJSON []byte

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b []byte
	var err error
	if raw, ok := v.(rawJSON); ok {
		b = raw
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		// Only our own wire types are marshalled; failing here is a bug in the emulator.
		panic(fmt.Sprintf("emulator: marshal response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
