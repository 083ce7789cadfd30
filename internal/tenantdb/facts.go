package tenantdb

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// ParametersAPI is the part of SSM the handler uses.
type ParametersAPI interface {
	GetParameters(context.Context, *ssm.GetParametersInput, ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameters(context.Context, *ssm.DeleteParametersInput, ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
	AddTagsToResource(context.Context, *ssm.AddTagsToResourceInput, ...func(*ssm.Options)) (*ssm.AddTagsToResourceOutput, error)
}

// Facts are the connection facts of a tenant, as the services read them
// under its parameter path.
func Facts(ev Event) map[string]string {
	return map[string]string{
		"host":       ev.Host,
		"port":       strconv.Itoa(ev.Port),
		"database":   ev.Database,
		"secret-arn": ev.TenantSecretArn,
	}
}

// recoveryWindowDays is how long a protected environment can restore a
// deleted tenant secret.
const recoveryWindowDays = 30

// ensureSecret finds the tenant's secret by name, creating it (empty: the
// password is written by tenantPassword) or cancelling its scheduled
// deletion, and returns its ARN. A secret made by an earlier deployment
// as a stack resource is adopted as it is.
func (h *Handler) ensureSecret(ctx context.Context, ev Event) (string, error) {
	out, err := h.Secrets.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretName)})
	var notFound *smtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		created, err := h.Secrets.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name:        aws.String(ev.SecretName),
			Description: aws.String(ev.Description + ": credentials"),
			KmsKeyId:    optional(ev.KmsKeyID),
			Tags:        secretTags(ev.Tags),
		})
		if err != nil {
			return "", fmt.Errorf("creating the tenant secret %s: %w", ev.SecretName, err)
		}
		return aws.ToString(created.ARN), nil
	case err != nil:
		return "", fmt.Errorf("reading the tenant secret %s: %w", ev.SecretName, err)
	}
	arn := aws.ToString(out.ARN)
	if out.DeletedDate != nil {
		// Removed with its data kept, and added back within the recovery
		// window: the same credentials come back.
		if _, err := h.Secrets.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(arn)}); err != nil {
			return "", fmt.Errorf("restoring the tenant secret %s: %w", ev.SecretName, err)
		}
	}
	if len(ev.Tags) > 0 {
		if _, err := h.Secrets.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(arn), Tags: secretTags(ev.Tags)}); err != nil {
			return "", fmt.Errorf("tagging the tenant secret %s: %w", ev.SecretName, err)
		}
	}
	return arn, nil
}

// retireSecret deletes the tenant's secret on removal, unless the data is
// kept in a protected environment: then the credentials stay with it.
// Protected environments can restore a deleted secret for 30 days.
func (h *Handler) retireSecret(ctx context.Context, ev Event) error {
	if ev.OnRemove != "drop" && ev.Protect {
		return nil
	}
	in := &secretsmanager.DeleteSecretInput{SecretId: aws.String(ev.SecretName)}
	if ev.Protect {
		in.RecoveryWindowInDays = aws.Int64(recoveryWindowDays)
	} else {
		in.ForceDeleteWithoutRecovery = aws.Bool(true)
	}
	_, err := h.Secrets.DeleteSecret(ctx, in)
	var notFound *smtypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("deleting the tenant secret %s: %w", ev.SecretName, err)
	}
	return nil
}

// publishFacts writes the facts that differ from what SSM holds, and
// brings the tags of those that exist up to date.
func (h *Handler) publishFacts(ctx context.Context, ev Event) error {
	facts := Facts(ev)
	names := factNames(ev.ParameterPath)
	out, err := h.Parameters.GetParameters(ctx, &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("reading the tenant's parameters under %s: %w", ev.ParameterPath, err)
	}
	current := map[string]string{}
	for _, p := range out.Parameters {
		current[aws.ToString(p.Name)] = aws.ToString(p.Value)
	}
	for _, name := range names {
		fact := name[len(ev.ParameterPath)+1:]
		value, exists := current[name]
		if exists && len(ev.Tags) > 0 {
			// A plan change retags what exists (PutParameter cannot).
			if _, err := h.Parameters.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{
				ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(name), Tags: parameterTags(ev.Tags),
			}); err != nil {
				return fmt.Errorf("tagging %s: %w", name, err)
			}
		}
		if exists && value == facts[fact] {
			continue
		}
		in := &ssm.PutParameterInput{
			Name:        aws.String(name),
			Value:       aws.String(facts[fact]),
			Type:        ssmtypes.ParameterTypeSecureString,
			KeyId:       optional(ev.KmsKeyID),
			Description: aws.String(ev.Description + ": " + fact),
		}
		if exists {
			// SSM refuses tags with Overwrite: the tags were set at creation.
			in.Overwrite = aws.Bool(true)
		} else {
			in.Tags = parameterTags(ev.Tags)
		}
		if _, err := h.Parameters.PutParameter(ctx, in); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// deleteFacts removes the tenant's parameters; missing ones are no error.
func (h *Handler) deleteFacts(ctx context.Context, ev Event) error {
	if _, err := h.Parameters.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: factNames(ev.ParameterPath)}); err != nil {
		return fmt.Errorf("deleting the tenant's parameters under %s: %w", ev.ParameterPath, err)
	}
	return nil
}

func factNames(path string) []string {
	names := make([]string, 0, 4)
	for fact := range Facts(Event{}) {
		names = append(names, path+"/"+fact)
	}
	sort.Strings(names)
	return names
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func sortedKeys(tags map[string]string) []string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func secretTags(tags map[string]string) []smtypes.Tag {
	var out []smtypes.Tag
	for _, k := range sortedKeys(tags) {
		out = append(out, smtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}

func parameterTags(tags map[string]string) []ssmtypes.Tag {
	var out []ssmtypes.Tag
	for _, k := range sortedKeys(tags) {
		out = append(out, ssmtypes.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return out
}
