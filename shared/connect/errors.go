package connect

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/omnibridge/omnibridge/shared/apperr"
)

// errorCodes maps Connect error types to application codes. Anything not listed falls back to
// the HTTP status (5xx → Unavailable) or Internal.
var errorCodes = map[string]apperr.Code{
	"ResourceNotFoundException":     apperr.NotFound,
	"ContactNotFoundException":      apperr.NotFound,
	"InvalidParameterException":     apperr.Invalid,
	"InvalidRequestException":       apperr.Invalid,
	"InvalidContactFlowException":   apperr.Invalid,
	"PropertyValidationException":   apperr.Invalid,
	"ValidationException":           apperr.Invalid,
	"DuplicateResourceException":    apperr.Conflict,
	"IdempotencyException":          apperr.Conflict,
	"ResourceConflictException":     apperr.Conflict,
	"ConflictException":             apperr.Conflict,
	"ThrottlingException":           apperr.Unavailable,
	"TooManyRequestsException":      apperr.Unavailable,
	"LimitExceededException":        apperr.Unavailable,
	"ServiceQuotaExceededException": apperr.Unavailable,
	"InternalServiceException":      apperr.Unavailable,
	"ServiceUnavailableException":   apperr.Unavailable,
	// Credentials and permissions are deployment mistakes: retrying will not help and the
	// caller must not be told more than "internal error".
	"AccessDeniedException":       apperr.Internal,
	"UnrecognizedClientException": apperr.Internal,
	"InvalidSignatureException":   apperr.Internal,
	"ExpiredTokenException":       apperr.Internal,
}

// userMessages are the user-safe messages per code; Connect's own text stays in the cause.
var userMessages = map[apperr.Code]string{
	apperr.NotFound:    "not found in Amazon Connect",
	apperr.Invalid:     "rejected by Amazon Connect as invalid",
	apperr.Conflict:    "conflicts with the state in Amazon Connect",
	apperr.Unavailable: "Amazon Connect is throttling or unavailable",
	apperr.Internal:    "Amazon Connect call failed",
}

// mapError converts an SDK error into an *apperr.Error. The cause kept inside is a plain error
// carrying the operation, Connect's error type and message (for operators' logs), so that no
// SDK type can be reached with errors.As by callers; context errors stay reachable with
// errors.Is because callers legitimately branch on cancellation.
func mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		cause := context.Canceled
		if errors.Is(err, context.DeadlineExceeded) {
			cause = context.DeadlineExceeded
		}
		return apperr.Wrap(apperr.Unavailable, fmt.Errorf("connect %s: %w", op, cause), "Amazon Connect %s did not complete in time", op)
	}
	code := apperr.Internal
	cause := fmt.Errorf("connect %s: %s", op, err.Error())
	var apiErr smithy.APIError
	var respErr *smithyhttp.ResponseError
	var sendErr *smithyhttp.RequestSendError
	switch {
	case errors.As(err, &apiErr):
		cause = fmt.Errorf("connect %s: %s: %s", op, apiErr.ErrorCode(), apiErr.ErrorMessage())
		if c, ok := errorCodes[apiErr.ErrorCode()]; ok {
			code = c
		} else if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
			code = apperr.Unavailable
		}
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500:
		code = apperr.Unavailable
	case errors.As(err, &sendErr):
		// The connection failed (reset, refused, timed out) on every attempt.
		code = apperr.Unavailable
	}
	return apperr.Wrap(code, cause, "%s: %s", op, userMessages[code])
}

// limiterError reports a wait on the client's own token bucket that could not complete.
func limiterError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return mapError(op, ctxErr)
	}
	// rate.Limiter refuses up front when the token would come after the context deadline.
	return apperr.Wrap(apperr.Unavailable, fmt.Errorf("connect %s: %w", op, err), "%s: Amazon Connect request rate limit reached", op)
}
