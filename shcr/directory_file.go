package shcr

import (
	"fmt"
	"io"

	"github.com/shcrkit/shcrkit/shcr/internal/directoryfile"
)

// LoadDirectory reads a directory from a JSON or YAML file (by its
// extension: .json, or .yaml/.yml; otherwise by its first character). See
// the package documentation for the format.
func LoadDirectory(path string) (*Directory, error) {
	return fromFile(directoryfile.Load(path))
}

// ParseDirectory reads a directory in format "json" or "yaml" ("" guesses
// from the first character) from r. Relative paths in it are taken
// relative to dir. Unknown fields are refused, so a misspelt setting is
// not silently ignored.
func ParseDirectory(r io.Reader, format, dir string) (*Directory, error) {
	return fromFile(directoryfile.Parse(r, format, dir))
}

// fromFile builds the Directory a file describes.
func fromFile(f *directoryfile.File, err error) (*Directory, error) {
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDirectory, err)
	}
	return newDirectory(f)
}
