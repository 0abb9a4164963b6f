// Package stack is orgwarden's CloudFormation stack in CDK: the four functions,
// their schedules, queues, secrets, audit storage, Glue table and alarms.
//
// It is the only package (with infra/rotatedsecret and the infra main package)
// that imports the CDK; configuration and function environments are plain Go in
// infra/config and infra/fnenv.
package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/rotatedsecret"
)

// Artifacts maps each function to its zip under cfg.ArtifactDir and fails, naming
// every missing one, when `make build` has not produced them.
func Artifacts(cfg config.Config) (map[string]string, error) {
	zips := map[string]string{}
	var missing []string
	for _, fn := range fnenv.Functions {
		path, err := filepath.Abs(filepath.Join(cfg.ArtifactDir, fn+".zip"))
		if err != nil {
			return nil, fmt.Errorf("artefact path for %s: %w", fn, err)
		}
		if info, err := os.Stat(path); err != nil || info.IsDir() {
			missing = append(missing, path)
			continue
		}
		zips[fn] = path
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("function artefacts missing (run `make build`, or set artifactDir): %s", strings.Join(missing, ", "))
	}
	return zips, nil
}

// New adds the orgwarden stack to app. cfg must be valid and the artefacts built.
func New(app constructs.Construct, cfg config.Config) (awscdk.Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	zips, err := Artifacts(cfg)
	if err != nil {
		return nil, err
	}

	props := &awscdk.StackProps{
		StackName:   jsii.String(cfg.StackName),
		Description: jsii.String("orgwarden: keeps an OpenAI organization clean and compliant (key rotation, invite cleanup, audit export, offboarding)"),
		// A security team does not want this stack deleted by a stray command;
		// a trial stack (evidence lock OFF) is meant to be deleted.
		TerminationProtection: jsii.Bool(!cfg.Trial()),
		AnalyticsReporting:    jsii.Bool(false),
	}
	if cfg.Account != "" {
		props.Env = &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)}
	}
	s := awscdk.NewStack(app, jsii.String(cfg.StackName), props)
	awscdk.Tags_Of(s).Add(jsii.String("application"), jsii.String("orgwarden"), nil)

	b := &builder{stack: s, cfg: cfg}
	b.storage()
	b.glueTables()
	b.messaging()
	if err := b.secrets(); err != nil {
		return nil, err
	}
	if err := b.functions(zips); err != nil {
		return nil, err
	}
	b.rotation()
	b.grantAdminKeys()
	b.secretPolicies()
	b.schedules()
	b.alarms()
	b.summaryNotifications()
	b.outputs()
	b.suppressNagFindings()
	return s, nil
}

// builder carries the constructs the parts of the stack hand to one another.
type builder struct {
	stack awscdk.Stack
	cfg   config.Config

	storageResources
	messagingResources
	adminKey *rotatedsecret.Secret
	// readOnlyAdminKey is nil unless configured.
	readOnlyAdminKey *rotatedsecret.Secret
	// adminKeysKey encrypts the admin-key secrets the stack creates.
	adminKeysKey awskms.Key
	// logsKey encrypts the functions' log groups.
	logsKey         awskms.Key
	serviceAccounts []*rotatedsecret.Secret
	fns             map[string]*function
	schedulerRoles  map[string]awsiam.Role
}
