package shcrkit

// The patterns of Redact, for the test that compares it with every step
// taken.
var (
	BearerTokenPattern = bearerToken
	JWTShapePattern    = jwtShape
	SecretFieldPattern = secretField
	QueryStringPattern = queryString
	RedactAPIKeys      = redactAPIKeys
	RedactBasic        = redactBasicCredentials
	NeutraliseControl  = neutraliseControl
)
