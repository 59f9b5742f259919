package audit

import "github.com/shcrkit/shcrkit/audit/internal/logstore"

// The log's file names and layout, for the tests that damage its files.
const (
	checkpointFile  = logstore.CheckpointFile
	signingKeyFile  = logstore.SigningKeyFile
	verifierFile    = logstore.VerifierFile
	hashesFile      = logstore.HashesFile
	tableFile       = logstore.TableFile
	stateFile       = logstore.StateFile
	lockFile        = logstore.LockFile
	indexDir        = logstore.IndexDir
	segmentsDir     = logstore.SegmentsDir
	segMagic        = logstore.SegMagic
	segHeaderSize   = logstore.SegHeaderSize
	frameHeaderSize = logstore.FrameHeaderSize
	tableEntrySize  = logstore.TableEntrySize
)

var (
	segmentName      = logstore.SegmentName
	runName          = logstore.RunName
	appendEventFrame = logstore.AppendEventFrame
	recordSeq        = logstore.RecordSeq
	recordedString   = logstore.RecordedString
)
