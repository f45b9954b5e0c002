// Command hello is the baseline of the cold-start benchmark (infra/coldstart): the smallest
// useful Lambda, an API Gateway HTTP API handler that answers 200 without touching anything,
// built exactly as the functions are. The gap between it and admin-api is what Omnibridge's own
// start-up (AWS config, clients, the first DynamoDB calls) costs.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(handle)
}

func handle(_ context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       `{"status":"ok"}`,
	}, nil
}
