// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TrainingMarket} from "../TrainingMarket.sol";
import {TrainingMarketTypes} from "./TrainingMarketTypes.sol";
import {DisputeGameTypes} from "../dispute/DisputeGameTypes.sol";
import {StepOps} from "../dispute/StepOps.sol";
import {NodeMerkle} from "../dispute/NodeMerkle.sol";
import {TensorMerkle} from "../dispute/TensorMerkle.sol";
import {StorageProofs} from "../storage/StorageProofs.sol";
import {ModelFileReader} from "./ModelFileReader.sol";

/// @title ModelFileDisputes
/// @notice A model file whose weights are not S_T's parameters is a lie like any other
///         (docs/design.md, "The model file"). The run a trainer submits (`modelCid`, a
///         dataset-style version whose tree holds `model.safetensors`) must hold, at byte
///         8 + H + 4·(Σ lengths of parameter slots before s + e), the little-endian F32 word
///         of element e of parameter slot s of S_T, the state of the transcript's last
///         record (H: the file's 8-byte little-endian header length). Anyone proves both
///         sides in one call during the challenge window: the file's bytes under the
///         modelCid (sha256 paths, as storage proofs) and the element against the last
///         record. If they differ, or the file is missing, truncated or not laid out as
///         the store lays files out, the trainer loses a dispute in the market (and is
///         slashed in the market's order of disputes); if they are equal the call reverts.
/// @dev An authorised dispute game of the market: it opens and resolves a dispute in the
///      same call, so an honest trainer faces no hold, no move and no deadline, and a
///      challenger needs no bond: a claim that does not prove costs only its gas.
contract ModelFileDisputes is ReentrancyGuardTransient {
    /// @notice The file every run must hold, at the top of its tree.
    bytes public constant MODEL_FILE = "model.safetensors";
    /// @dev A run CID: CIDv1, dag-cbor, sha2-256, 32 bytes.
    bytes4 internal constant DAG_CBOR_CID = 0x01711220;

    /// @notice Why a model file lost.
    enum Fault {
        None,
        WrongWeight, // the word at the element's offset is not S_T's
        Truncated, // the file ends before the element's word (or its header length)
        Missing, // the run's tree holds no model.safetensors
        Malformed, // the run CID, its commit, its tree or the file's blocks break the layout
        WrongHeader, // the file's header is not the job's template filled with S_T's and the transcript's roots
        Oversized // the file has bytes past the length the job's template gives
    }

    /// @notice The S_T side of a claim: element `element` of parameter slot `slot`.
    struct Claim {
        uint256 jobId;
        DisputeGameTypes.Header header; // the preimage of the job's programHash (P)
        DisputeGameTypes.Record last; // record T of the transcript
        bytes32[] lastProof; // its NodeMerkle siblings against the transcript root
        bytes32[] slotRoots; // the 3P slot tensor roots of S_T (params, m, v)
        bytes32[] paramTrees; // Merkle roots of parameter slots 0 .. slot - 1 (for their lengths)
        uint256[] paramLengths; // their lengths, in elements
        uint256 slot;
        uint256 element;
        StepOps.Opening opening; // of parameter slot `slot` (F32), covering `element`
    }

    /// @notice A header claim: the job's header template (its hash is the job's `modelHeader`)
    ///         and record T of the transcript, whose state root the header must name.
    struct HeaderClaim {
        uint256 jobId;
        DisputeGameTypes.Record last;
        bytes32[] lastProof;
        bytes prefix; // file bytes before the state root (the 8-byte header length first)
        bytes middle; // between the state root and the transcript root
        bytes suffix; // after the transcript root, to the end of the header
        uint256 length; // the whole file's length in bytes
    }

    /// @notice The file side: the run's commit block and tree node, and the leaves that hold
    ///         the header length (bytes [0, 8)) and the element's word (none when the word
    ///         lies in the header's last leaf, as in a file of one leaf).
    struct FileProof {
        bytes commit;
        bytes tree;
        ModelFileReader.Segment[] head;
        ModelFileReader.Segment[] word;
    }

    TrainingMarket public immutable market;

    /// @notice The trainer of `jobId` lost dispute `number` over its model file to `challenger`.
    event ModelFileConvicted(uint256 indexed jobId, address indexed challenger, uint32 number, Fault fault, uint256 slot, uint256 element, uint32 committed, uint32 inFile);

    /// @notice The trainer of `jobId` lost dispute `number` over its model file's header to `challenger`.
    event ModelHeaderConvicted(uint256 indexed jobId, address indexed challenger, uint32 number, Fault fault);

    error JobNotSubmitted(uint256 jobId, TrainingMarketTypes.Status status);
    error SelfChallenge(uint256 jobId, address trainer);
    error ProgramMismatch(bytes32 have, bytes32 want);
    error SlotOutOfRange(uint256 slot, uint256 paramSlots);
    error SlotCount(uint256 have, uint256 want);
    error RecordMismatch(uint256 index, bytes32 have, bytes32 want);
    error SlotsMismatch(bytes32 have, bytes32 want);
    /// @notice Parameter slot `slot`'s Merkle root and length do not hash to its slot root.
    error SlotRootMismatch(uint256 slot, bytes32 have, bytes32 want);
    error OpeningMismatch(bytes32 have, bytes32 want);
    error ElementNotOpened(uint256 element, uint256 first, uint256 end);
    /// @notice The commit block does not hash to the run CID.
    error CommitMismatch(bytes32 have, bytes32 want);
    /// @notice The tree node does not hash to the tree the commit names.
    error TreeMismatch(bytes32 have, bytes32 want);
    /// @notice The template given does not hash to the job's `modelHeader`.
    error TemplateMismatch(uint256 jobId, bytes32 have, bytes32 want);
    /// @notice The file's header is the template filled with the job's roots, and the file ends at its length.
    error HeaderMatches(uint256 jobId);
    /// @notice The file holds S_T's word at the element: nothing to convict.
    error WeightMatches(uint256 jobId, uint256 slot, uint256 element, uint32 word);

    constructor(TrainingMarket market_) {
        market = market_;
    }

    /// @notice Proves that the model file of a submitted job is not S_T's parameters: the
    ///         trainer loses a dispute in the market, whose challenger share goes to the caller.
    /// @dev During the job's challenge window, by anyone but its trainer. Emits
    ///      {ModelFileConvicted} (and the market's DisputeOpened, DisputeResolved, JobSlashed).
    ///      Reverts {WeightMatches} for an honest file, and the errors above (or the
    ///      reader's, the Merkle libraries') for a claim or a file proof that does not prove.
    /// @return number The dispute's number within the job.
    function challenge(Claim calldata c, FileProof calldata f) external nonReentrant returns (uint32 number, Fault fault) {
        TrainingMarketTypes.Job memory job = _challengeable(c.jobId);
        (uint256 offset, uint32 committed) = _weight(c, job);
        uint32 inFile;
        (fault, inFile) = _fileWord(job.modelCid, f, offset);
        if (fault == Fault.None) {
            if (inFile == committed) revert WeightMatches(c.jobId, c.slot, c.element, committed);
            fault = Fault.WrongWeight;
        }
        number = market.disputeOpened(c.jobId);
        emit ModelFileConvicted(c.jobId, msg.sender, number, fault, c.slot, c.element, committed, inFile);
        market.disputeResolved(c.jobId, number, false, msg.sender);
    }

    /// @notice Proves that the model file of a submitted job does not have the header its job
    ///         binds: file bytes [0, 8 + H) must be the job's template (`modelHeader`) with
    ///         S_T's root and the transcript root filled in as lowercase hex, and the file must
    ///         end at the template's length. A header that maps names to other bytes makes
    ///         readers load another model even when every weight sits at its offset.
    /// @dev As {challenge}: by anyone but the trainer, during the challenge window, opened and
    ///      resolved in one call. `f.head` holds the leaves of bytes [0, 8 + H); `f.word`, if
    ///      not empty, the leaf holding byte `c.length` (a file longer than its template).
    ///      Emits {ModelHeaderConvicted}; reverts {HeaderMatches} for an honest file.
    /// @return number The dispute's number within the job.
    function challengeHeader(HeaderClaim calldata c, FileProof calldata f) external nonReentrant returns (uint32 number, Fault fault) {
        TrainingMarketTypes.Job memory job = _challengeable(c.jobId);
        bytes32 template = templateHash(c.prefix, c.middle, c.suffix, c.length);
        if (template != job.spec.modelHeader) revert TemplateMismatch(c.jobId, template, job.spec.modelHeader);
        _checkLast(job, c.last, c.lastProof);
        bytes memory header = bytes.concat(c.prefix, _hex(c.last.state), c.middle, _hex(job.transcriptRoot), c.suffix);
        fault = _fileHeader(job.modelCid, f, header, c.length);
        if (fault == Fault.None) revert HeaderMatches(c.jobId);
        number = market.disputeOpened(c.jobId);
        emit ModelHeaderConvicted(c.jobId, msg.sender, number, fault);
        market.disputeResolved(c.jobId, number, false, msg.sender);
    }

    /// @notice What a job's `modelHeader` is: the hash of its model file's header template.
    function templateHash(bytes calldata prefix, bytes calldata middle, bytes calldata suffix, uint256 length) public pure returns (bytes32) {
        return keccak256(abi.encode(prefix, middle, suffix, length));
    }

    /// @dev A submitted job, and a caller who is not its trainer.
    function _challengeable(uint256 jobId) private view returns (TrainingMarketTypes.Job memory job) {
        job = market.getJob(jobId);
        if (job.status != TrainingMarketTypes.Status.Submitted) revert JobNotSubmitted(jobId, job.status);
        if (msg.sender == job.trainer) revert SelfChallenge(jobId, msg.sender);
    }

    /// @dev Record T of the job's transcript, proven against its transcript root.
    function _checkLast(TrainingMarketTypes.Job memory job, DisputeGameTypes.Record calldata last, bytes32[] calldata proof) private pure {
        uint256 records = uint256(job.spec.steps) + 1;
        bytes32 leaf = keccak256(abi.encodePacked(uint8(3), last.state, last.lossBits));
        bytes32 root = keccak256(abi.encodePacked(NodeMerkle.rootFromLeaf(leaf, records - 1, records, proof), records));
        if (root != job.transcriptRoot) revert RecordMismatch(records - 1, root, job.transcriptRoot);
    }

    /// @dev Element `element` of parameter slot `slot` of S_T, proven to the last record,
    ///      and its offset among the parameters in slot order.
    function _weight(Claim calldata c, TrainingMarketTypes.Job memory job) private pure returns (uint256 offset, uint32 committed) {
        bytes32 programHash = keccak256(abi.encode(c.header));
        if (programHash != job.spec.programHash) revert ProgramMismatch(programHash, job.spec.programHash);
        uint256 p = c.header.paramSlots;
        if (c.slot >= p) revert SlotOutOfRange(c.slot, p);
        if (c.slotRoots.length != 3 * p) revert SlotCount(c.slotRoots.length, 3 * p);
        _checkLast(job, c.last, c.lastProof);
        bytes32 state = keccak256(abi.encodePacked(NodeMerkle.root(c.slotRoots), uint256(job.spec.steps)));
        if (state != c.last.state) revert SlotsMismatch(state, c.last.state);
        if (c.paramTrees.length != c.slot || c.paramLengths.length != c.slot) revert SlotCount(c.paramTrees.length, c.slot);
        for (uint256 i = 0; i < c.slot; i++) {
            // dtype 0: parameters are F32, as the file holds them
            bytes32 slotRoot = keccak256(abi.encodePacked(c.paramTrees[i], c.paramLengths[i], uint8(0)));
            if (slotRoot != c.slotRoots[i]) revert SlotRootMismatch(i, slotRoot, c.slotRoots[i]);
            offset += c.paramLengths[i];
        }
        StepOps.Opening calldata o = c.opening;
        bytes32 root = TensorMerkle.rootFromRange(o.length, 0, o.firstLeaf, o.words, o.siblings);
        if (root != c.slotRoots[c.slot]) revert OpeningMismatch(root, c.slotRoots[c.slot]);
        // rootFromRange checked the range lies inside the tensor: no overflow below.
        uint256 first = o.firstLeaf * 8;
        uint256 end = first + o.words.length / 4;
        if (c.element < first || c.element >= end || c.element >= o.length) revert ElementNotOpened(c.element, first, end);
        uint256 w = (c.element - first) * 4;
        committed = uint32(bytes4(o.words[w:w + 4]));
        offset += c.element;
    }

    /// @dev The word at parameter offset `offset` of the run's model file (as committed:
    ///      the file's little-endian bytes read as a number), or why the run has none.
    function _fileWord(bytes memory modelCid, FileProof calldata f, uint256 offset) private view returns (Fault fault, uint32 word) {
        ModelFileReader.Link memory file;
        (fault, file) = _modelFile(modelCid, f);
        if (fault != Fault.None) return (fault, 0);
        uint8 status;
        (status, word) = _word(file, f, offset);
        if (status != ModelFileReader.OK) return (_fault(status), 0);
        // Commitments hold NaN canonical (docs/design.md): any NaN in the file is that NaN.
        if (word & 0x7f800000 == 0x7f800000 && word & 0x007fffff != 0) word = 0x7fc00000;
    }

    /// @dev Whether the run's model file starts with `header` and ends at `length`, or why not.
    function _fileHeader(bytes memory modelCid, FileProof calldata f, bytes memory header, uint256 length) private view returns (Fault fault) {
        ModelFileReader.Link memory file;
        (fault, file) = _modelFile(modelCid, f);
        if (fault != Fault.None) return fault;
        (uint8 status, bytes memory head,) = ModelFileReader.read(file, 0, header.length, f.head);
        if (status != ModelFileReader.OK) return _fault(status);
        if (keccak256(head) != keccak256(header)) return Fault.WrongHeader;
        if (f.word.length == 0) return Fault.None;
        (status,,) = ModelFileReader.read(file, length, 1, f.word);
        if (status == ModelFileReader.OK) return Fault.Oversized;
        // PAST_END: the file ends where its template says.
        return status == ModelFileReader.PAST_END ? Fault.None : Fault.Malformed;
    }

    /// @dev The link of the run's model.safetensors: the run CID's commit, its tree, the entry.
    function _modelFile(bytes memory modelCid, FileProof calldata f) private view returns (Fault fault, ModelFileReader.Link memory file) {
        if (modelCid.length != 36 || bytes4(modelCid) != DAG_CBOR_CID) return (Fault.Malformed, file);
        bytes32 want;
        assembly ("memory-safe") {
            want := mload(add(modelCid, 36)) // the digest: bytes 4 .. 36 of the CID
        }
        bytes32 got = sha256(f.commit);
        if (got != want) revert CommitMismatch(got, want);
        bytes32 tree;
        // An out-of-gas inside cannot pass for a malformed commit: the call gets 63/64 of the
        // gas left, and the 1/64 kept could not pay for the market calls that follow unless
        // the call had millions of gas, far more than parsing a version block costs.
        try this.treeOf(f.commit) returns (bytes32 t) {
            tree = t;
        } catch {
            return (Fault.Malformed, file);
        }
        got = sha256(f.tree);
        if (got != tree) revert TreeMismatch(got, tree);
        uint8 status;
        (status, file) = ModelFileReader.entry(f.tree, MODEL_FILE);
        if (status != ModelFileReader.OK) return (_fault(status), file);
    }

    /// @dev The word at parameter offset `offset` of the file `file`: the header length
    ///      from bytes [0, 8), then the 4 bytes at 8 + H + 4·offset, little-endian.
    function _word(ModelFileReader.Link memory file, FileProof calldata f, uint256 offset) private pure returns (uint8 status, uint32 word) {
        bytes memory head;
        uint256 headLeaf;
        (status, head, headLeaf) = ModelFileReader.read(file, 0, 8, f.head);
        if (status != ModelFileReader.OK) return (status, 0);
        // headerLength < 2^64; offset is a sum of committed lengths (checked arithmetic)
        uint256 pos = 8 + _littleEndian(head) + 4 * offset;
        if (f.word.length > 0) {
            (status, head,) = ModelFileReader.read(file, pos, 4, f.word);
            return (status, uint32(_littleEndian(head)));
        }
        // The word lies in the header's (last) leaf, already proven: not sent twice.
        bytes calldata leaf = f.head[f.head.length - 1].leaf;
        if (pos < headLeaf || pos + 4 > headLeaf + leaf.length) revert ModelFileReader.SegmentCount(0, 1);
        word = uint32(_littleEndian(leaf[pos - headLeaf:pos - headLeaf + 4]));
    }

    /// @notice The tree digest a run's commit names; reverts unless it is a version block.
    /// @dev External so that {challenge} can tell a malformed commit (the trainer's) by a
    ///      try/catch around StorageProofs' parser, which reverts.
    function treeOf(bytes calldata commit) external view returns (bytes32 tree) {
        (, tree) = StorageProofs.treeOf(commit);
    }

    function _fault(uint8 status) private pure returns (Fault) {
        if (status == ModelFileReader.PAST_END) return Fault.Truncated;
        if (status == ModelFileReader.MISSING) return Fault.Missing;
        return Fault.Malformed;
    }

    /// @dev A root as the header writes it: 64 lowercase hex digits.
    function _hex(bytes32 v) private pure returns (bytes memory out) {
        bytes16 digits = "0123456789abcdef";
        out = new bytes(64);
        for (uint256 i = 0; i < 32; i++) {
            uint8 b = uint8(v[i]);
            out[2 * i] = digits[b >> 4];
            out[2 * i + 1] = digits[b & 0x0f];
        }
    }

    function _littleEndian(bytes memory b) private pure returns (uint256 v) {
        for (uint256 i = b.length; i > 0; i--) v = (v << 8) | uint8(b[i - 1]);
    }
}
