package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/omnibridge/omnibridge/shared/dynamo"
	"github.com/omnibridge/omnibridge/shared/secrets"
)

// SecretSource returns a secret's value by id (a Secrets Manager name or ARN).
type SecretSource interface {
	SecretValue(ctx context.Context, id string) ([]byte, error)
}

// Deps are the dependencies built once per container and shared by every invocation.
type Deps struct {
	Env    Env
	Logger *slog.Logger
	AWS    aws.Config
	Store  *dynamo.Store
	// Secrets reads the Salesforce credentials and the webhook signing secret: Secrets Manager
	// in Lambda (cached per container), a fixed set in the local stack.
	Secrets SecretSource
	Commit  string
	// Now is the clock handlers decide, sign-check and sweep by: time.Now in Lambda; the local
	// stack's scenario runner sets a scripted one.
	Now func() time.Time
}

// Load builds Deps from the process environment with the default AWS credential chain.
func Load(ctx context.Context) (*Deps, error) {
	env, err := LoadEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	d := New(env, cfg, NewLogger(os.Stdout, env.LogLevel))
	d.Secrets = secrets.New(secretsmanager.NewFromConfig(cfg), secrets.DefaultTTL)
	return d, nil
}

// New builds Deps from an environment and an AWS config; the local stack calls it with the
// embedded endpoints and dummy credentials, and sets Secrets itself.
func New(env Env, cfg aws.Config, logger *slog.Logger) *Deps {
	return &Deps{
		Env:    env,
		Logger: logger,
		AWS:    cfg,
		Store:  dynamo.New(dynamo.NewClient(cfg, env.DynamoEndpoint), env.Table),
		Commit: BuildCommit(),
		Now:    time.Now,
	}
}
