package onboarding

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// The functions' environment: which handler the shared binary runs
// (cmd/tenantdb serves the provisioner, the API and the worker), and what
// each needs to know.
const (
	EnvHandler     = "TENANTDB_HANDLER"
	HandlerAPI     = "onboarding-api"
	HandlerWorker  = "onboarding-worker"
	EnvTable       = "ONBOARDING_TABLE"
	EnvQueueURL    = "ONBOARDING_QUEUE_URL"
	EnvCallers     = "ONBOARDING_CALLERS" // JSON list of role and user ARNs
	EnvStack       = "ONBOARDING_STACK"
	EnvMaxAttempts = "ONBOARDING_MAX_ATTEMPTS"
	// The worker's naming of tenant secrets and parameters (Naming).
	EnvProject         = "ONBOARDING_PROJECT"
	EnvSecretPrefix    = "ONBOARDING_SECRET_PREFIX"
	EnvParameterPrefix = "ONBOARDING_PARAMETER_PREFIX"
	EnvKeyArn          = "ONBOARDING_KEY_ARN"
	EnvRecoveryDays    = "ONBOARDING_RECOVERY_DAYS"
)

// RegistryTable is the registry table's name: fixed, so that the tenants
// command finds it from the project and stack names alone.
func RegistryTable(project, stack string) string {
	return project + "-" + stack + "-tenants"
}

// FromEnvironment configures the API from its function's environment.
func (a *API) FromEnvironment(getenv func(string) string) error {
	a.Registry.Table, a.QueueURL, a.Stack = getenv(EnvTable), getenv(EnvQueueURL), getenv(EnvStack)
	if err := json.Unmarshal([]byte(getenv(EnvCallers)), &a.Callers); err != nil {
		return fmt.Errorf("%s is not a JSON list of ARNs: %w", EnvCallers, err)
	}
	if a.Registry.Table == "" || a.QueueURL == "" || len(a.Callers) == 0 {
		return fmt.Errorf("the API needs %s, %s and %s", EnvTable, EnvQueueURL, EnvCallers)
	}
	return nil
}

// FromEnvironment configures the worker from its function's environment.
func (w *Worker) FromEnvironment(getenv func(string) string) error {
	w.Registry.Table = getenv(EnvTable)
	attempts, err := strconv.Atoi(getenv(EnvMaxAttempts))
	if err != nil || attempts < 1 || w.Registry.Table == "" {
		return fmt.Errorf("the worker needs %s and %s (a positive number)", EnvTable, EnvMaxAttempts)
	}
	w.MaxAttempts = attempts
	return nil
}

// NamingFromEnvironment reads the worker's naming of tenant secrets and
// parameters.
func NamingFromEnvironment(getenv func(string) string) (Naming, error) {
	n := Naming{
		Project: getenv(EnvProject), Stack: getenv(EnvStack),
		SecretPrefix: getenv(EnvSecretPrefix), ParameterPrefix: getenv(EnvParameterPrefix), KeyArn: getenv(EnvKeyArn),
	}
	days, err := strconv.Atoi(getenv(EnvRecoveryDays))
	if err != nil || days < 0 || n.Project == "" || n.Stack == "" || n.SecretPrefix == "" || n.ParameterPrefix == "" || n.KeyArn == "" {
		return Naming{}, fmt.Errorf("the worker needs %s, %s, %s, %s, %s and %s (a number of days)",
			EnvProject, EnvStack, EnvSecretPrefix, EnvParameterPrefix, EnvKeyArn, EnvRecoveryDays)
	}
	n.RecoveryDays = days
	return n, nil
}
