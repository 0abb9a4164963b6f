package adminapi_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/respjson"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// fixedNow keeps seeded ages and expiries reproducible across runs.
var fixedNow = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

func smallServer(t testing.TB, options ...adminapitest.Option) *adminapitest.Server {
	t.Helper()
	seed := adminapi.SmallSeed(1)
	return adminapitest.New(t, adminapi.Options{Seed: &seed, Clock: fixedClock}, options...)
}

type pager[T any] interface {
	Next() bool
	Current() T
	Err() error
}

func collect[T any](t testing.TB, it pager[T]) []T {
	t.Helper()
	var out []T
	for it.Next() {
		out = append(out, it.Current())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("paging: %v", err)
	}
	return out
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

// statusOf returns the HTTP status of an SDK error (0 if it is not an API error).
func statusOf(err error) int {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

func wantStatus(t testing.TB, what string, err error, status int) {
	t.Helper()
	if got := statusOf(err); got != status {
		t.Fatalf("%s: got status %d (err %v), want %d", what, got, err, status)
	}
}

// raw sends one request with the given bearer key and returns status, headers and body.
func raw(t testing.TB, srv *adminapitest.Server, method, path, key, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := srv.HTTP.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, b
}

// errorBody decodes an OpenAI error and checks all four keys are present.
func errorBody(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var env struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Error == nil {
		t.Fatalf("not an OpenAI error body: %s", b)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := env.Error[k]; !ok {
			t.Fatalf("error body lacks %q: %s", k, b)
		}
	}
	return env.Error
}

// lostFields lists the JSON keys the SDK type knows but failed to decode
// (a type or shape mismatch), walking nested objects and arrays.
func lostFields(v reflect.Value, path string) []string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		var out []string
		for i := range v.Len() {
			out = append(out, lostFields(v.Index(i), path+"[]")...)
		}
		return out
	case reflect.Struct:
	default:
		return nil
	}
	meta := v.FieldByName("JSON")
	var out []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() || f.Name == "JSON" {
			continue
		}
		if f.Anonymous {
			out = append(out, lostFields(v.Field(i), path)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !meta.IsValid() || name == "" || name == "-" {
			continue
		}
		mf := meta.FieldByName(f.Name)
		if !mf.IsValid() {
			continue
		}
		field, ok := mf.Interface().(respjson.Field)
		if !ok {
			continue
		}
		if r := field.Raw(); r != "" && r != "null" && !field.Valid() {
			out = append(out, path+"."+name)
			continue
		}
		out = append(out, lostFields(v.Field(i), path+"."+name)...)
	}
	return out
}

// decodedFully fails when the SDK dropped a field it has from a response.
func decodedFully(t testing.TB, what string, v any) {
	t.Helper()
	if lost := lostFields(reflect.ValueOf(v), what); len(lost) > 0 {
		t.Errorf("SDK could not decode %v", lost)
	}
}
