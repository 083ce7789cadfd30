package observability

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// EventTopicArgs configures an EventTopic.
type EventTopicArgs struct {
	Project     string
	Environment string
	Emails      []string
}

// EventTopic is where the data stores' own event notices go: ElastiCache's
// (failovers, node replacements, maintenance) and AWS Backup's (failed
// copies, restore results). ElastiCache publishes to no encrypted topic: it
// marks one inactive on its first message and goes silent. So, unlike the
// alert topic, this one is not encrypted, and it carries nothing but event
// names and resource identifiers. It exists before the data layer, which
// names it on the cache and the backup vault; the alert recipients subscribe
// to it as they do to the alert topic.
type EventTopic struct {
	pulumi.ResourceState

	Arn pulumi.StringOutput `pulumi:"arn"`
}

// NewEventTopic creates the topic, the policy that lets ElastiCache and
// AWS Backup of this account publish to it, and the email subscriptions.
func NewEventTopic(ctx *pulumi.Context, name string, args *EventTopicArgs, opts ...pulumi.ResourceOption) (*EventTopic, error) {
	if args == nil {
		return nil, fmt.Errorf("event topic %s: args are required", name)
	}
	e := &EventTopic{}
	if err := ctx.RegisterComponentResource("saas:observability:EventTopic", name, e, opts...); err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(e))
	if err != nil {
		return nil, fmt.Errorf("event topic %s: reading the account id: %w", name, err)
	}
	topic, err := sns.NewTopic(ctx, name, &sns.TopicArgs{
		DisplayName: pulumi.Sprintf("Data events %s-%s", args.Project, args.Environment),
	}, pulumi.Parent(e))
	if err != nil {
		return nil, fmt.Errorf("event topic %s: %w", name, err)
	}
	if _, err := sns.NewTopicPolicy(ctx, name, &sns.TopicPolicyArgs{
		Arn: topic.Arn,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			arn := v[0].(string)
			return awspolicy.New(
				awspolicy.Statement{
					// ElastiCache's documented statement: it publishes as the
					// account's resources, identified by aws:SourceOwner
					// (it does not send aws:SourceAccount).
					Sid: "ElastiCacheOfThisAccountPublishes", Effect: "Allow",
					Principal: map[string][]string{"AWS": {"*"}},
					Action:    []string{"sns:Publish"},
					Resource:  []string{arn},
					Condition: awspolicy.Condition{"StringEquals": {"AWS:SourceOwner": {caller.AccountId}}},
				},
				awspolicy.Statement{
					// AWS Backup's documented statement, which names no
					// source to condition on.
					Sid: "BackupPublishes", Effect: "Allow",
					Principal: map[string][]string{"Service": {"backup.amazonaws.com"}},
					Action:    []string{"sns:Publish"},
					Resource:  []string{arn},
				},
			)
		}, topic.Arn),
	}, pulumi.Parent(e)); err != nil {
		return nil, fmt.Errorf("event topic %s: policy: %w", name, err)
	}
	for i, email := range args.Emails {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-%d", name, i), &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(email),
		}, pulumi.Parent(e)); err != nil {
			return nil, fmt.Errorf("event topic %s: subscription: %w", name, err)
		}
	}
	e.Arn = topic.Arn
	if err := ctx.RegisterResourceOutputs(e, pulumi.Map{"arn": e.Arn}); err != nil {
		return nil, err
	}
	return e, nil
}
