package adminclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// rawItems reads a list the plain HTTP way, one big page, and returns each
// item's bytes as the emulator wrote them.
func rawItems(t *testing.T, srv *adminapitest.Server, path string, query url.Values) []json.RawMessage {
	t.Helper()
	q := url.Values{"limit": {"100"}}
	for k, v := range query {
		q[k] = v
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+path+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+srv.AdminKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var page struct {
		Data    []json.RawMessage `json:"data"`
		HasMore bool              `json:"has_more"`
	}
	if err := json.Unmarshal(body, &page); err != nil || page.HasMore {
		t.Fatalf("%s: one page of 100 expected: %v", path, err)
	}
	return page.Data
}

func TestRawItemsAreTheAPIsBytesAcrossPages(t *testing.T) {
	srv := smallOrg(t)
	// Pages of 2: every list below takes several pages.
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.PageSize = 2 })
	proj := srv.Emulator.Projects()[0].ID
	tests := []struct {
		name string
		list adminclient.RawList
	}{
		{"users", adminclient.RawList{Path: "organization/users"}},
		{"invites", adminclient.RawList{Path: "organization/invites"}},
		{"projects with archived", adminclient.RawList{Path: "organization/projects", Query: url.Values{"include_archived": {"true"}}}},
		{"admin keys (last item)", adminclient.RawList{Path: "organization/admin_api_keys", Cursor: adminclient.CursorLastItem}},
		{"project keys", adminclient.RawList{Path: "organization/projects/" + proj + "/api_keys", Query: url.Values{"owner_project_access": {"any"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := rawItems(t, srv, tt.list.Path, tt.list.Query)
			if len(want) < 3 {
				t.Fatalf("%d items: the seed gives this list too few for several pages", len(want))
			}
			before := c.Stats().Requests
			var got []json.RawMessage
			for item, err := range c.RawItems(context.Background(), tt.list) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, item)
			}
			if len(got) != len(want) {
				t.Fatalf("%d items, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("item %d:\n got %s\nwant %s", i, got[i], want[i])
				}
			}
			if calls, min := c.Stats().Requests-before, int64((len(want)+1)/2); calls < min || calls > min+1 {
				t.Errorf("%d calls for %d items in pages of 2", calls, len(want))
			}
		})
	}
}

func TestRawObject(t *testing.T) {
	srv := smallOrg(t)
	c, _ := newClient(t, srv, nil)
	got, err := c.RawObject(context.Background(), "organization/data_retention")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Object string }
	if err := json.Unmarshal(got, &doc); err != nil || doc.Object != "organization.data_retention" {
		t.Fatalf("%s: %v", got, err)
	}
}

// The cursor families the emulator does not serve yet (B: next; C: usage
// and costs' next_page, sent back as page), over a server that checks the
// cursor parameter it gets.
func TestRawItemsCursorFamilies(t *testing.T) {
	tests := []struct {
		name   string
		cursor adminclient.RawCursor
		param  string
		pages  []string
	}{
		{"next (family B)", adminclient.CursorNext, "after", []string{
			`{"object":"list","data":[{"id":"g1"},{"id":"g2"}],"has_more":true,"next":"c1"}`,
			`{"object":"list","data":[{"id":"g3"}],"has_more":false,"next":null}`}},
		{"next_page (family C)", adminclient.CursorNextPage, "page", []string{
			`{"object":"page","data":[{"object":"bucket","start_time":1}],"has_more":true,"next_page":"c1"}`,
			`{"object":"page","data":[{"object":"bucket","start_time":2}, {"object":"bucket","start_time":3}],"has_more":false,"next_page":null}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Query().Get(tt.param) {
				case "":
					io.WriteString(w, tt.pages[0])
				case "c1":
					io.WriteString(w, tt.pages[1])
				default:
					http.Error(w, `{"error":{"message":"bad cursor","type":"invalid_request_error","param":null,"code":null}}`, http.StatusBadRequest)
				}
			}))
			defer srv.Close()
			c, err := adminclient.New(adminclient.Options{BaseURL: srv.URL, AdminKey: "sk-admin-test", MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for item, err := range c.RawItems(context.Background(), adminclient.RawList{Path: "organization/x", Cursor: tt.cursor}) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(item))
			}
			if len(got) != 3 {
				t.Fatalf("%d items: %v", len(got), got)
			}
		})
	}
}
