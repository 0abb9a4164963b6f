package stack_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNagAwsSolutionsHasNoUnsuppressedErrors fails on any error annotation: every
// cdk-nag AwsSolutions finding must be fixed or suppressed with a reason.
func TestNagAwsSolutionsHasNoUnsuppressedErrors(t *testing.T) {
	for _, path := range sortedKeys(metadata) {
		for _, e := range metadata[path] {
			switch e.Type {
			case "aws:cdk:error":
				t.Errorf("%s: %v", path, e.Data)
			case "aws:cdk:warning":
				t.Logf("warning at %s: %v", path, e.Data)
			}
		}
	}
}

// TestNagRan guards the test above: with no nag pack applied it would pass vacuously.
func TestNagRan(t *testing.T) {
	// cdk-nag names the report after the pack and the stack's path
	// (AwsSolutions-Orgwarden-…, or AwsSolutions--Orgwarden-… since 2.38).
	reports, _ := filepath.Glob(filepath.Join(outdir, "AwsSolutions-*"+cfg.StackName+"-NagReport.csv"))
	if len(reports) != 1 {
		found, _ := filepath.Glob(filepath.Join(outdir, "*NagReport*"))
		t.Fatalf("want one cdk-nag AwsSolutions report for %s, found %v", cfg.StackName, found)
	}
	f, err := os.Open(reports[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, row := range rows[1:] {
		counts[row[2]]++
		if row[2] == "Non-Compliant" {
			t.Errorf("non-compliant: %s on %s", row[0], row[1])
		}
	}
	if counts["Compliant"] < 40 || counts["Suppressed"] == 0 {
		t.Errorf("report counts %v: the AwsSolutions pack did not check the stack", counts)
	}
}

// TestEverySuppressionCarriesItsReason reads the suppressions recorded in the
// template: each has a reason, and wildcard (IAM5) ones name what they cover.
func TestEverySuppressionCarriesItsReason(t *testing.T) {
	found := 0
	for _, id := range sortedKeys(resources) {
		nag, _ := resources[id].Metadata["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			found++
			reason, _ := rule["reason"].(string)
			if len(strings.TrimSpace(reason)) < 40 {
				t.Errorf("%s: suppression of %v has no real reason: %q", id, rule["id"], reason)
			}
			if rule["id"] == "AwsSolutions-IAM5" {
				if applies, _ := rule["applies_to"].([]any); len(applies) == 0 {
					t.Errorf("%s: IAM5 suppressed wholesale; name the resources it covers", id)
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no suppressions found in the template metadata")
	}
}
