package export

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// optionFields are the fields of the run options (an EventBridge detail),
// read from EventOptions' own tags so that a new option cannot be refused.
var optionFields = jsonFields(reflect.TypeFor[EventOptions]())

// eventFields are the top-level fields an Event may have: an EventBridge
// event's, and the run options.
var eventFields = append(jsonFields(reflect.TypeFor[events.EventBridgeEvent]()), optionFields...)

// jsonFields lists the JSON names of t's fields.
func jsonFields(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// UnmarshalJSON refuses fields the export does not know: {"sinse": ...}
// would otherwise run a normal export and report success, leaving the
// backfill that was asked for undone.
func (e *Event) UnmarshalJSON(b []byte) error {
	if err := unknownFields(b, eventFields); err != nil {
		return fmt.Errorf("audit export event: %w", err)
	}
	var ev struct {
		events.EventBridgeEvent
		EventOptions
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return fmt.Errorf("audit export event: %w", err)
	}
	if d := strings.TrimSpace(string(ev.Detail)); d != "" && d != "null" {
		if err := unknownFields(ev.Detail, optionFields); err != nil {
			return fmt.Errorf("audit export event: detail: %w", err)
		}
	}
	*e = Event{EventBridgeEvent: ev.EventBridgeEvent, EventOptions: ev.EventOptions}
	return nil
}

func unknownFields(b []byte, known []string) error {
	if t := strings.TrimSpace(string(b)); t == "" || t == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("want a JSON object")
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, fmt.Sprintf("%q", logging.Redact(k))) // never echo key material
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("unknown field(s) %s: want %s", strings.Join(unknown, ", "), strings.Join(optionFields, ", "))
	}
	return nil
}
