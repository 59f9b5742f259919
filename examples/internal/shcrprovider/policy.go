package shcrprovider

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/shcrkit/shcrkit"
	"go.yaml.in/yaml/v3"
)

// agreementYAML is the sharing agreement between the consumer's shared
// care record (%s) and Brackenfield, as both policies hold it.
const agreementYAML = `id: ISA-%[1]s-RBF-2026
title: %[1]s and Brackenfield direct care agreement
reference: ISA/2026/201
parties: [%[1]s, RBF]
purposes: [TREAT, ETREAT, BTG]
categories: [demographics, care-plans, summary-record, clinical-summary]
valid_from: 2025-01-01
valid_to: 2035-12-31
`

const brackenfieldYAML = `name: Brackenfield Care Record
members:
  - {ods: Y60001, name: Brackenfield Surgery}
`

const ropaYAML = `controller:
  name: Brackenfield Care Record (example)
  ods: RBF
  contact: information.governance@brackenfield.example
data_protection_officer:
  name: Data Protection Officer, Brackenfield Care Record (example)
  contact: dpo@brackenfield.example
audit_retention: 8 years from the date of access
record_retention: Records are held by Brackenfield; other regions display them and do not store them.
`

// ConsumerPolicy returns a consumer's policy (YAML) with Brackenfield
// added as a remote shared care record and an agreement with it.
func ConsumerPolicy(consumer []byte) ([]byte, error) {
	doc, root, local, err := parse(consumer)
	if err != nil {
		return nil, err
	}
	remote, err := snippet("ods: RBF\n" + brackenfieldYAML)
	if err != nil {
		return nil, err
	}
	agreement, err := snippet(fmt.Sprintf(agreementYAML, local))
	if err != nil {
		return nil, err
	}
	appendTo(root, "remote_shcrs", remote)
	appendTo(root, "agreements", agreement)
	return encode(doc)
}

// ProviderPolicy returns Brackenfield's own policy, made from the
// consumer's: the same data categories, access levels and roles (so the
// two sides read a role alike), Brackenfield as the local shared care
// record, the consumer's as its one remote shared care record, and the
// same agreement between them.
func ProviderPolicy(consumer []byte) ([]byte, error) {
	doc, root, local, err := parse(consumer)
	if err != nil {
		return nil, err
	}
	consumerLocal := get(root, "local")
	// The consumer's local entry (shcr, name, members) becomes a remote
	// entry (ods, name, members).
	remote := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(consumerLocal.Content); i += 2 {
		k, v := *consumerLocal.Content[i], consumerLocal.Content[i+1]
		if k.Value == "shcr" {
			k.Value = "ods"
		}
		remote.Content = append(remote.Content, &k, v)
	}
	newLocal, err := snippet("shcr: RBF\n" + brackenfieldYAML)
	if err != nil {
		return nil, err
	}
	agreement, err := snippet(fmt.Sprintf(agreementYAML, local))
	if err != nil {
		return nil, err
	}
	set(root, "name", &yaml.Node{Kind: yaml.ScalarNode, Value: "Brackenfield Care Record provider policy"})
	set(root, "local", newLocal)
	set(root, "remote_shcrs", &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{remote}})
	set(root, "agreements", &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{agreement}})
	ropa, err := snippet(ropaYAML)
	if err != nil {
		return nil, err
	}
	set(root, "record_of_processing", ropa)
	return encode(doc)
}

// parse reads a policy and the ODS code of its local shared care record.
func parse(b []byte) (*yaml.Node, *yaml.Node, shcrkit.ODSCode, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, nil, "", err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, "", errors.New("the policy is not a YAML mapping")
	}
	root := doc.Content[0]
	local := get(root, "local")
	if local == nil || get(local, "shcr") == nil {
		return nil, nil, "", errors.New("the policy names no local shared care record")
	}
	return &doc, root, shcrkit.ODSCode(get(local, "shcr").Value), nil
}

func snippet(s string) (*yaml.Node, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil {
		return nil, err
	}
	return n.Content[0], nil
}

func get(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
}

func appendTo(m *yaml.Node, key string, v *yaml.Node) {
	seq := get(m, key)
	if seq == nil || seq.Kind != yaml.SequenceNode {
		seq = &yaml.Node{Kind: yaml.SequenceNode}
		set(m, key, seq)
	}
	seq.Content = append(seq.Content, v)
}

func encode(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
