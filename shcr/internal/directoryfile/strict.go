package directoryfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shcrkit/shcrkit/internal/textclip"
	"go.yaml.in/yaml/v3"
)

// checkJSONKeys refuses a JSON document with a key given twice in one
// object, or anything after the document. encoding/json keeps the last of
// repeated keys, and matches them without regard to case, so that
// {"baseUrl": "https://a", "BASEURL": "https://b"} would send credentials
// to a host that a reader of the file does not see; YAML refuses the same.
func checkJSONKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := walkJSON(dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("JSON: data after the directory")
	}
	return nil
}

// walkJSON reads one value from dec, checking the keys of its objects.
func walkJSON(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := k.(string)
			if lk := strings.ToLower(key); seen[lk] {
				return fmt.Errorf("JSON: key %q given twice", clip(key))
			} else {
				seen[lk] = true
			}
			if err := walkJSON(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for dec.More() {
			if err := walkJSON(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// checkYAMLExpansion refuses a YAML document whose aliases make it
// larger than a file may be: an alias is a reference, and a few hundred
// of them to one long value would otherwise multiply a small file into
// gigabytes of URLs to parse and of error text.
func checkYAMLExpansion(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	sizes := map[*yaml.Node]int64{}
	var size func(n *yaml.Node, depth int) int64
	size = func(n *yaml.Node, depth int) int64 {
		if n == nil || depth > 10000 {
			return 0
		}
		if s, ok := sizes[n]; ok {
			return s
		}
		sizes[n] = 0 // a cycle counts once
		var s int64
		if n.Kind == yaml.AliasNode {
			s = size(n.Alias, depth+1)
		} else {
			s = int64(len(n.Value)) + 1
			for _, c := range n.Content {
				s += size(c, depth+1)
				if s > maxDirectoryBytes {
					break
				}
			}
		}
		s = min(s, maxDirectoryBytes+1)
		sizes[n] = s
		return s
	}
	if size(&doc, 0) > maxDirectoryBytes {
		return fmt.Errorf("aliases expand the directory beyond %d bytes", maxDirectoryBytes)
	}
	return nil
}

// clip shortens a value quoted in an error, on a character boundary.
func clip(s string) string { return textclip.Clip(s, 200) }
