package awsjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/testenv/awslocal/awsjson"
)

type echoIn struct {
	Name   string             `json:"Name"`
	Secret string             `json:"Secret"`
	At     *awsjson.Timestamp `json:"At"`
}

type echoOut struct {
	Greeting string             `json:"Greeting"`
	At       *awsjson.Timestamp `json:"At,omitempty"`
}

func newService(t *testing.T) (*awsjson.Service, string) {
	t.Helper()
	svc := awsjson.New(awsjson.Config{TargetPrefix: "Demo", Version: "1.0", ErrorNamespace: "com.example", Redact: []string{"Secret"}})
	svc.Handle("Echo", awsjson.Op(func(_ context.Context, in *echoIn) (*echoOut, error) {
		switch in.Name {
		case "missing":
			return nil, &awsjson.Error{Type: "QueueDoesNotExist", QueryCode: "AWS.Demo.NonExistent", Message: "nope"}
		case "crash":
			return nil, errors.New("disk on fire")
		}
		return &echoOut{Greeting: "hi " + in.Name, At: in.At}, nil
	}))
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return svc, srv.URL
}

func post(t *testing.T, url, target, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return resp, out
}

func TestDispatchAndErrors(t *testing.T) {
	tests := []struct {
		name       string
		target     string
		body       string
		wantStatus int
		wantType   string
		wantQuery  string
		wantField  string
	}{
		{"success", "Demo.Echo", `{"Name":"ann"}`, 200, "", "", "hi ann"},
		{"typed error with query code", "Demo.Echo", `{"Name":"missing"}`, 400, "com.example#QueueDoesNotExist", "AWS.Demo.NonExistent;Sender", ""},
		{"unexpected error is a 500", "Demo.Echo", `{"Name":"crash"}`, 500, "com.example#InternalFailure", "", ""},
		{"unknown operation", "Demo.Nope", `{}`, 400, "com.example#UnknownOperationException", "", ""},
		{"wrong service", "Other.Echo", `{}`, 400, "com.example#UnknownOperationException", "", ""},
		{"bad json", "Demo.Echo", `{"Name":`, 400, "com.example#SerializationException", "", ""},
		{"wrong member type", "Demo.Echo", `{"Name":5}`, 400, "com.example#SerializationException", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, url := newService(t)
			resp, out := post(t, url, tt.target, tt.body)
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
				t.Fatalf("status %d content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if tt.wantType != "" && (out["__type"] != tt.wantType || out["message"] == "") {
				t.Errorf("error body %v", out)
			}
			if got := resp.Header.Get("x-amzn-query-error"); got != tt.wantQuery {
				t.Errorf("x-amzn-query-error %q, want %q", got, tt.wantQuery)
			}
			if tt.wantField != "" && out["Greeting"] != tt.wantField {
				t.Errorf("output %v", out)
			}
			if msg, _ := out["message"].(string); strings.Contains(msg, "disk on fire") {
				t.Error("internal error text leaked to the client")
			}
		})
	}
}

func TestRequestLogMasksAndCounts(t *testing.T) {
	svc, url := newService(t)
	post(t, url, "Demo.Echo", `{"Name":"ann","Secret":"sk-live-123"}`)
	post(t, url, "Demo.Echo", `{"Name":"missing","Nested":[{"Secret":"sk-nested"}]}`)
	reqs := svc.Requests()
	if len(reqs) != 2 || svc.Count("Echo") != 2 {
		t.Fatalf("log %+v", reqs)
	}
	if reqs[0].Status != 200 || reqs[1].Status != 400 || reqs[1].ErrorType != "QueueDoesNotExist" {
		t.Errorf("statuses %+v", reqs)
	}
	for _, r := range reqs {
		if strings.Contains(string(r.Input), "sk-") {
			t.Errorf("logged %s", r.Input)
		}
	}
	if !strings.Contains(string(reqs[0].Input), `"Name":"ann"`) {
		t.Errorf("unmasked fields lost: %s", reqs[0].Input)
	}
}

func TestTimestampWireForm(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	b, err := json.Marshal(awsjson.Timestamp(at))
	if err != nil || string(b) != "1767323045.678" {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var back awsjson.Timestamp
	if err := json.Unmarshal([]byte("1767323045.678"), &back); err != nil || !back.Time().Equal(at) {
		t.Errorf("unmarshal: %v %v", back.Time(), err)
	}
	if err := json.Unmarshal([]byte(`"2026-01-02"`), &back); err == nil {
		t.Error("a string timestamp was accepted")
	}
}
