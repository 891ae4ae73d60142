package app

import (
	"fmt"

	"github.com/omnigate/omnigate/internal/email/domains"
)

// EmailDomains is what sending-domain records point at and the resolver
// their checks ask, from the configuration.
func (c Config) EmailDomains() (domains.Config, error) {
	r, err := domains.Resolver(c.DNSResolver)
	if err != nil {
		return domains.Config{}, fmt.Errorf("--dns-resolver: %w", err)
	}
	for flag, host := range map[string]*string{"--email-mx-host": &c.EmailMXHost, "--email-spf-include": &c.EmailSPFInclude} {
		if *host == "" {
			continue
		}
		if *host, err = domains.NormalizeDomain(*host); err != nil {
			return domains.Config{}, fmt.Errorf("%s: %w", flag, err)
		}
	}
	return domains.Config{MXHost: c.EmailMXHost, SPFInclude: c.EmailSPFInclude, DMARCReport: c.EmailDMARCReport, Resolver: r}, nil
}
