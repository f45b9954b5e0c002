package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/omnibridge/omnibridge/shared/app"
	"github.com/omnibridge/omnibridge/shared/apperr"
	"github.com/omnibridge/omnibridge/shared/config"
	"github.com/omnibridge/omnibridge/shared/dynamo/dynamolocal"
	"github.com/omnibridge/omnibridge/shared/runtime"
	"github.com/omnibridge/omnibridge/shared/salesforce"
	"github.com/omnibridge/omnibridge/shared/secrets"
	"github.com/omnibridge/omnibridge/shared/webhook"

	_ "embed"
)

//go:embed config.sample.json
var sampleConfig []byte

// localTable is the table name the local stack uses, as template.yaml's default would.
const localTable = "omnibridge-local"

// stack is the embedded environment every function runs against locally: an in-process
// DynamoDB with the table created and the config seeded.
type stack struct {
	deps   *runtime.Deps
	dynamo *dynamolocal.Server
	sims   *sims
}

// stackOptions choose the stack's seed files; empty means the embedded defaults.
type stackOptions struct {
	configFile string
	seedFile   string
	logOut     io.Writer
	// now, when set, is the one clock of the whole stack: the simulators' timestamps, the
	// handlers' decisions and the table's TTLs (the scenario runner scripts it). Nil is the wall
	// clock.
	now func() time.Time
	// newID, when set, generates the Connect simulator's contact and event ids, for repeatable
	// runs.
	newID func() string
}

func startStack(ctx context.Context, opts stackOptions) (*stack, error) {
	configJSON := sampleConfig
	if opts.configFile != "" {
		b, err := os.ReadFile(opts.configFile)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		configJSON = b
	}
	doc, err := config.Parse(configJSON)
	if err != nil {
		return nil, fmt.Errorf("config document: %s %v", apperr.MessageOf(err), apperr.ProblemsOf(err))
	}
	if problems, _ := app.ValidateConfig(doc); len(problems) > 0 {
		return nil, fmt.Errorf("config document: %v", problems)
	}
	sm, err := startSims(opts.seedFile, opts.now, opts.newID)
	if err != nil {
		return nil, err
	}
	// The toggle is registered under the name the seeded document gives; a document PUT later
	// that names another action finds none (NOT_FOUND, audited delivery-failed).
	sm.registerToggle(doc.EffectiveSession().Targets.Distribution)
	db, err := dynamolocal.Start()
	if err != nil {
		sm.close()
		return nil, fmt.Errorf("start embedded DynamoDB: %w", err)
	}
	if opts.logOut == nil {
		opts.logOut = os.Stderr
	}
	env := runtime.Env{
		Table: localTable, DynamoEndpoint: db.URL, LogLevel: "info",
		ConnectEndpoint:     sm.connectURL,
		ConnectInstanceID:   sm.connect.InstanceID(),
		SalesforceSecretARN: localSalesforceSecretID, WebhookSecretARN: localWebhookSecretID,
	}
	deps := runtime.New(env, dynamolocal.Config(), runtime.NewLogger(opts.logOut, env.LogLevel))
	if opts.now != nil {
		deps.Now = opts.now
		deps.Store = deps.Store.WithClock(opts.now)
	}
	deps.Secrets, err = localSecrets(sm.salesforceURL)
	if err != nil {
		sm.close()
		_ = db.Close()
		return nil, err
	}
	st := &stack{deps: deps, dynamo: db, sims: sm}
	if err := deps.Store.CreateTable(ctx); err != nil {
		st.close()
		return nil, fmt.Errorf("create table: %w", err)
	}
	if _, err := deps.Store.PutConfig(ctx, doc, 0, "local-seed"); err != nil {
		st.close()
		return nil, fmt.Errorf("seed config: %w", err)
	}
	return st, nil
}

// Secret ids of the local stack, standing in for the Secrets Manager ARNs template.yaml passes.
const (
	localSalesforceSecretID = "omnibridge/local/salesforce"
	localWebhookSecretID    = "omnibridge/local/webhook"
)

// localSecrets holds what Secrets Manager holds in AWS: the Salesforce credentials (here the
// simulator's client credentials) and the webhook signing secret the samples in
// events/salesforce-webhook are signed with.
func localSecrets(salesforceURL string) (secrets.Static, error) {
	creds, err := json.Marshal(salesforce.Credentials{
		Flow: salesforce.FlowClientCredentials, LoginURL: salesforceURL,
		ClientID: localSalesforceClientID, ClientSecret: localSalesforceClientSecret,
	})
	if err != nil {
		return nil, err
	}
	return secrets.Static{
		localSalesforceSecretID: creds,
		localWebhookSecretID:    []byte(webhook.LocalSecret),
	}, nil
}

func (s *stack) close() {
	_ = s.dynamo.Close()
	s.sims.close()
}

// silentLogger discards logs, for invoke, whose stdout is the handler's response only.
func silentLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
