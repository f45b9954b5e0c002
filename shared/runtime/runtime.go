package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/omnibridge/omnibridge/shared/dynamo"
)

// Deps are the dependencies built once per container and shared by every invocation.
type Deps struct {
	Env    Env
	Logger *slog.Logger
	AWS    aws.Config
	Store  *dynamo.Store
	Commit string
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
	return New(env, cfg, NewLogger(os.Stdout, env.LogLevel)), nil
}

// New builds Deps from an environment and an AWS config; the local stack calls it with the
// embedded endpoints and dummy credentials.
func New(env Env, cfg aws.Config, logger *slog.Logger) *Deps {
	return &Deps{
		Env:    env,
		Logger: logger,
		AWS:    cfg,
		Store:  dynamo.New(dynamo.NewClient(cfg, env.DynamoEndpoint), env.Table),
		Commit: BuildCommit(),
	}
}
