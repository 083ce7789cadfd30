// Package edge owns how people reach an environment: the Route 53 zone and
// its records, the load balancer's certificate (requested and validated by
// DNS), and static assets served from a private bucket through CloudFront,
// with its own us-east-1 certificate and, in prod, web ACL.
package edge

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DomainArgs configures a Domain.
type DomainArgs struct {
	Name       string // the load balancer's name
	Zone       string // the hosted zone; empty: no DNS, no certificate requested
	CreateZone bool
	// Hosts are more names the load balancer answers at, in the zone: the
	// certificate covers them.
	Hosts []string
	// CertificateArn is a certificate made elsewhere: none is requested.
	CertificateArn string
	Protect        bool
}

// Domain is the environment's hosted zone and the load balancer's
// certificate. It comes before the load balancer, which needs the
// certificate; the records pointing at the load balancer come after it
// (see NewRecords).
type Domain struct {
	pulumi.ResourceState

	// ZoneId is empty without a zone.
	ZoneId pulumi.StringOutput `pulumi:"zoneId"`
	// CertificateArn is a validated certificate, or nil for plain HTTP.
	CertificateArn pulumi.StringInput
	// NameServers are a created zone's; delegate the domain to them.
	NameServers pulumi.StringArrayOutput `pulumi:"nameServers"`
}

// NewDomain finds or creates the zone and, without a given certificate,
// requests one for the name and hosts and waits for its validation.
func NewDomain(ctx *pulumi.Context, name string, args *DomainArgs, opts ...pulumi.ResourceOption) (*Domain, error) {
	if args == nil {
		return nil, fmt.Errorf("domain %s: args are required", name)
	}
	d := &Domain{}
	if err := ctx.RegisterComponentResource("saas:edge:Domain", name, d, opts...); err != nil {
		return nil, err
	}
	if args.CertificateArn != "" {
		d.CertificateArn = pulumi.String(args.CertificateArn)
	}
	if args.Zone != "" {
		if err := d.zone(ctx, name, args); err != nil {
			return nil, fmt.Errorf("domain %s: %w", name, err)
		}
		if args.CertificateArn == "" {
			cert, err := NewValidatedCertificate(ctx, name, d.ZoneId, append([]string{args.Name}, args.Hosts...), pulumi.Parent(d))
			if err != nil {
				return nil, fmt.Errorf("domain %s: certificate: %w", name, err)
			}
			d.CertificateArn = cert
		}
	}
	if err := ctx.RegisterResourceOutputs(d, pulumi.Map{"zoneId": d.ZoneId}); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Domain) zone(ctx *pulumi.Context, name string, args *DomainArgs) error {
	if args.CreateZone {
		zone, err := route53.NewZone(ctx, name, &route53.ZoneArgs{
			Name:         pulumi.String(args.Zone),
			Comment:      pulumi.String("Public zone of " + args.Name),
			ForceDestroy: pulumi.Bool(!args.Protect),
		}, pulumi.Parent(d), pulumi.Protect(args.Protect))
		if err != nil {
			return err
		}
		d.ZoneId, d.NameServers = zone.ZoneId, zone.NameServers
		return nil
	}
	private := false
	zone, err := route53.LookupZone(ctx, &route53.LookupZoneArgs{Name: &args.Zone, PrivateZone: &private}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("looking up the hosted zone %s (set domain.createZone: true to create it): %w", args.Zone, err)
	}
	d.ZoneId = pulumi.String(zone.ZoneId).ToStringOutput()
	d.NameServers = pulumi.ToStringArray(zone.NameServers).ToStringArrayOutput()
	return nil
}

// NewValidatedCertificate requests an ACM certificate for names (the first
// is the subject, the rest alternative names), writes its DNS validation
// records into the zone and returns its ARN once ACM has validated it, so
// that nothing uses it before it is issued. opts carry the parent and, for
// CloudFront, the us-east-1 provider.
func NewValidatedCertificate(ctx *pulumi.Context, name string, zoneID pulumi.StringInput, names []string, opts ...pulumi.ResourceOption) (pulumi.StringOutput, error) {
	if len(names) == 0 {
		return pulumi.StringOutput{}, fmt.Errorf("certificate %s: no names", name)
	}
	certArgs := &acm.CertificateArgs{
		DomainName:       pulumi.String(names[0]),
		ValidationMethod: pulumi.String("DNS"),
		KeyAlgorithm:     pulumi.String("EC_prime256v1"),
	}
	if len(names) > 1 {
		certArgs.SubjectAlternativeNames = pulumi.ToStringArray(names[1:])
	}
	cert, err := acm.NewCertificate(ctx, name, certArgs, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	var fqdns pulumi.StringArray
	for _, n := range names {
		option := validationOption(cert, n)
		record, err := route53.NewRecord(ctx, name+"-validation-"+n, &route53.RecordArgs{
			ZoneId:  zoneID,
			Name:    option.ResourceRecordName().Elem(),
			Type:    option.ResourceRecordType().Elem(),
			Records: pulumi.StringArray{option.ResourceRecordValue().Elem()},
			Ttl:     pulumi.Int(60),
			// ACM gives names under one parent the same record.
			AllowOverwrite: pulumi.Bool(true),
		}, opts...)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		fqdns = append(fqdns, record.Fqdn)
	}
	validation, err := acm.NewCertificateValidation(ctx, name, &acm.CertificateValidationArgs{
		CertificateArn:        cert.Arn,
		ValidationRecordFqdns: fqdns,
	}, opts...)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return validation.CertificateArn, nil
}

// validationOption picks the record ACM asks for to validate one name; an
// answer without it is an error naming the certificate and the name.
func validationOption(cert *acm.Certificate, domain string) acm.CertificateDomainValidationOptionOutput {
	return cert.DomainValidationOptions.ApplyT(func(options []acm.CertificateDomainValidationOption) (acm.CertificateDomainValidationOption, error) {
		for _, o := range options {
			if o.DomainName != nil && strings.EqualFold(*o.DomainName, domain) {
				return o, nil
			}
		}
		return acm.CertificateDomainValidationOption{}, fmt.Errorf(
			"ACM returned no DNS validation record for %s (domainValidationOptions has %d entries): check the certificate in the ACM console", domain, len(options))
	}).(acm.CertificateDomainValidationOptionOutput)
}

// AliasTarget is what an alias record points at.
type AliasTarget struct {
	DnsName pulumi.StringInput
	ZoneId  pulumi.StringInput
	// EvaluateHealth lets Route 53 follow the target's health; a load
	// balancer reports it, and Route 53 refuses it for CloudFront.
	EvaluateHealth bool
}

// NewAliasRecords points each name at target with A and AAAA aliases.
// AAAA answers once the target serves IPv6 (CloudFront does; a dual-stack
// load balancer would), and costs nothing meanwhile.
func NewAliasRecords(ctx *pulumi.Context, name string, zoneID pulumi.StringInput, names []string, target AliasTarget, opts ...pulumi.ResourceOption) error {
	for _, n := range names {
		for _, kind := range []string{"A", "AAAA"} {
			if _, err := route53.NewRecord(ctx, fmt.Sprintf("%s-%s-%s", name, n, strings.ToLower(kind)), &route53.RecordArgs{
				ZoneId: zoneID,
				Name:   pulumi.String(n),
				Type:   pulumi.String(kind),
				Aliases: route53.RecordAliasArray{route53.RecordAliasArgs{
					Name: target.DnsName, ZoneId: target.ZoneId, EvaluateTargetHealth: pulumi.Bool(target.EvaluateHealth),
				}},
			}, opts...); err != nil {
				return fmt.Errorf("%s record %s: %w", kind, n, err)
			}
		}
	}
	return nil
}
