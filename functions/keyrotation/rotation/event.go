package rotation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgwarden/orgwarden/shared/sweep"
)

// Event is what the keyrotation function receives, decided by shape:
// Secrets Manager's rotation event {"SecretId", "ClientRequestToken",
// "Step"} asks for one rotation step; anything sweep.ScheduleEvent accepts
// ({}, {"dry_run": true}, a scheduled EventBridge event) asks for a sweep.
// aws-lambda-go decodes the payload with json.Unmarshal, so this is also
// how Lambda decodes it.
type Event struct {
	Rotation *events.SecretsManagerSecretRotationEvent
	Schedule *sweep.ScheduleEvent
}

// UnmarshalJSON decides the shape.
func (e *Event) UnmarshalJSON(b []byte) error {
	ev, err := ParseEvent(b)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

var rotationFields = []string{"Step", "SecretId", "ClientRequestToken"}

// ParseEvent reads a keyrotation payload.
func ParseEvent(b []byte) (Event, error) {
	var fields map[string]json.RawMessage
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '{' {
		if err := json.Unmarshal(t, &fields); err != nil {
			return Event{}, errors.New("keyrotation event: not valid JSON")
		}
	}
	has := 0
	for _, f := range rotationFields {
		if _, ok := fields[f]; ok {
			has++
		}
	}
	if has == 0 {
		s, err := sweep.ParseScheduleEvent(b)
		if err != nil {
			return Event{}, fmt.Errorf("keyrotation event: want a Secrets Manager rotation event {SecretId, ClientRequestToken, Step} or a schedule ({}, {\"dry_run\": true} or an EventBridge scheduled event): %w", err)
		}
		return Event{Schedule: &s}, nil
	}
	var rot events.SecretsManagerSecretRotationEvent
	if err := json.Unmarshal(b, &rot); err != nil {
		return Event{}, errors.New("keyrotation event: rotation event fields must be strings")
	}
	if rot.Step == "" || rot.SecretID == "" || rot.ClientRequestToken == "" {
		return Event{}, errors.New("keyrotation event: a rotation event needs SecretId, ClientRequestToken and Step")
	}
	return Event{Rotation: &rot}, nil
}
