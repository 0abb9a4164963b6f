package sqs

import "testing"

// TestAttributesMD5 checks the digest against values published by other
// SQS implementations and SDK test suites, computed independently of this
// code.
func TestAttributesMD5(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]MessageAttribute
		want  string
	}{
		{"number", map[string]MessageAttribute{"timestamp": {DataType: "Number", StringValue: "1493147359900"}}, "235c5c510d26fb653d073faed50ae77c"},
		{"string", map[string]MessageAttribute{"SellerName": {DataType: "String", StringValue: "Example Store"}}, "cd28f3b68aeee4b2eac9c66f2f694b58"},
		{"sorted by name", map[string]MessageAttribute{
			"ordinal":  {DataType: "Number", StringValue: "1"},
			"category": {DataType: "String", StringValue: "test"},
		}, "d21ae90c49061e927f57df5f5d72be1f"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := attributesMD5(tt.attrs); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
