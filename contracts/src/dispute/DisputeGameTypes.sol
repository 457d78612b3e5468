// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TrainingMarketTypes} from "../market/TrainingMarketTypes.sol";
import {StepOps} from "./StepOps.sol";

/// @title DisputeGameTypes
/// @notice The vocabulary of the dispute game (docs/step-program.md): its phases and
///         reasons, what each move carries, what a dispute keeps, its events and errors.
abstract contract DisputeGameTypes {
    /// @notice The `step` of a dispute over initialisation (S_0 and the init program).
    uint32 public constant INIT = type(uint32).max;

    enum Phase {
        None,
        AwaitTrace, // trainer: post the op trace of the step
        AwaitPinpoint, // challenger: name an op output element and prove the op's inputs
        AwaitReveal, // trainer: open the named element
        Resolved,
        AwaitValues, // trainer: reveal the requested range of an op output
        AwaitRecords // trainer: reveal the queried transcript records
    }

    /// @notice Why a dispute ended.
    enum Reason {
        None,
        TraceTimeout, // the trainer posted no trace: challenger wins
        PinpointTimeout, // the challenger named no element: trainer wins
        RevealTimeout, // the trainer opened no element: challenger wins
        Mismatch, // the committed element is not f(inputs): challenger wins
        Match, // the committed element is f(inputs): trainer wins
        ValuesTimeout, // the trainer did not reveal requested values: challenger wins
        RecordsTimeout, // the trainer did not reveal queried records: challenger wins
        Answered // the trainer revealed the queried records: the query ends, bond to the trainer
    }

    /// @notice The preimage of a job's programHash: keccak256(abi.encode(header)).
    struct Header {
        bytes32 stepOpsRoot; // nodeRoot of keccak256(abi.encode(op)) over the step program
        uint32 stepOps;
        uint32 paramSlots; // P; the state has 3P slots: params, m, v
        bytes32 initOpsRoot; // the same over the init program (3P ops, one per slot)
        uint32 lossOp; // the step op whose output element 0 is the step's loss, as recorded
    }

    /// @notice One transcript record: hash keccak256(abi.encodePacked(uint8(3), state, lossBits)).
    struct Record {
        bytes32 state;
        uint32 lossBits;
    }

    /// @notice What a challenger proves at open: records `step` and `step + 1` of the
    ///         transcript (NodeMerkle siblings against the job's transcript root) and the
    ///         slots root of S_t, with keccak256(abi.encodePacked(slotsRoot, uint256(step)))
    ///         == recordBefore.state. For INIT, recordBefore is record 0 and the rest is ignored.
    struct StepProof {
        Record recordBefore;
        bytes32[] beforeProof;
        Record recordAfter;
        bytes32[] afterProof;
        bytes32 slotsRoot; // nodeRoot of the slot tensor roots of S_t
    }

    /// @notice The tensor root of one op input and its proof (see {pinpoint}).
    struct InputRoot {
        bytes32 root;
        bytes32[] proof;
    }

    /// @notice The challenger's pinpoint move.
    struct Pinpoint {
        uint256 opIndex;
        StepOps.Op op; // proven by opProof: keccak256(abi.encode(op)) at opIndex of the disputed program
        bytes32[] opProof;
        uint256 element; // output element of the op, < product of op.dims
        bytes32 outputRoot; // the trainer's output root of the op, proven by outputProof at opIndex of the trace
        bytes32[] outputProof;
        // One per op input. SLOT: the slot's tensor root, proven at the slot index against
        // the slots root of S_t (not allowed for INIT); OP: the output root of op `index`
        // (< opIndex), proven against the trace; TOKENS and CONSTANT: bound by the job and
        // by the op, `root` and `proof` ignored.
        InputRoot[] inputRoots;
        // Range proofs of the input elements the element reads, checked by the verifier
        // against the bound input roots.
        StepOps.Opening[] openings;
    }

    /// @dev Ten storage words; the first four hold every small field.
    struct Dispute {
        address challenger;
        uint96 bond; // paid by the challenger at open
        address trainer;
        uint64 deadline; // of the move the phase waits for
        uint32 step; // t, or INIT
        uint64 seed;
        uint32 opsCount; // ops of the disputed program: stepOps, or 3P for INIT; also the trace length
        uint32 paramSlots;
        uint32 opIndex; // pinpointed op
        uint32 expected; // f(inputs) at the pinpointed element, from the verifier
        Phase phase;
        Reason reason;
        uint8 moves; // moves made after open: trace, pinpoint, reveal
        uint8 dtype; // of the pinpointed op's output
        uint32 number; // the dispute's number within its job, from the market
        uint64 jobId;
        uint64 element; // pinpointed output element; while AwaitValues, the first requested leaf
        uint64 outputLength; // elements of the pinpointed (or requested) op's output
        uint64 moveTime; // seconds per move, fixed at open
        uint8 requests; // value requests made so far
        uint32 requestedLeaves; // while AwaitValues: how many leaves from `element`
        uint32 lossOp; // from the header
        uint32 lossBits; // the loss record t commits to (step disputes)
        bool evaluation; // over the last record: its loss, an evaluation of S_T by the step program's forward part
        bytes32 opsRoot; // stepOpsRoot, or initOpsRoot for INIT
        bytes32 slotsRoot; // nodeRoot of the slot tensor roots of S_t (zero for INIT)
        bytes32 state; // what the trace must rebuild: S_{t+1}, or S_0 for INIT
        bytes32 tokensRoot; // the job's tokens stream
        bytes32 traceRoot; // nodeRoot of the posted op output roots
        bytes32 outputRoot; // tensor root of the pinpointed (or requested) op's output, from the trace
        bytes32 queryHash; // while AwaitRecords: keccak256(abi.encode(indices))
    }

    /// @notice The challenger's request for the values of leaves [firstLeaf, firstLeaf +
    ///         leaves) of op `opIndex`'s output in the trainer's trace.
    struct ValuesRequest {
        uint256 opIndex;
        StepOps.Op op; // proven by opProof, for the output's length and dtype
        bytes32[] opProof;
        bytes32 outputRoot; // proven by outputProof at opIndex of the trace
        bytes32[] outputProof;
        uint256 firstLeaf;
        uint256 leaves; // 1 .. MAX_REQUEST_LEAVES; cut at the tensor's end
    }

    /// @notice A challenger opened dispute `id` over `step` of `jobId` (INIT: S_0); the
    ///         trainer must post the op trace by `deadline`.
    event DisputeOpened(uint256 indexed id, uint256 indexed jobId, address indexed challenger, uint32 step, uint256 bond, uint64 deadline);
    /// @notice The trainer posted the op trace; the challenger must pinpoint within
    ///         `moveTime`. The roots are logged so a challenger can read them without the calldata.
    event OpTracePosted(uint256 indexed id, bytes32[] roots);
    /// @notice The challenger named `element` of op `opIndex`, whose value must be
    ///         `expected`; the trainer must reveal it by `deadline`.
    event Pinpointed(uint256 indexed id, uint256 opIndex, uint256 element, bytes32 outputRoot, uint32 expected, uint64 deadline);
    /// @notice The trainer opened the element: `committed` against the verifier's `expected`.
    event Revealed(uint256 indexed id, uint32 committed, uint32 expected);
    /// @notice Dispute `id` ended; the market was told (unless the job was already slashed).
    event DisputeResolved(uint256 indexed id, uint256 indexed jobId, bool challengerWon, Reason reason);
    /// @notice Governance set the bond of new disputes and the time per move.
    event ParametersSet(uint96 bond, uint64 moveTime);
    /// @notice Governance set the bond of new queries.
    event QueryBondSet(uint96 queryBond);
    /// @notice The challenger asked for leaves [firstLeaf, firstLeaf + leaves) of op
    ///         `opIndex`'s output; the trainer must reveal them by `deadline`.
    event ValuesRequested(uint256 indexed id, uint256 opIndex, uint256 firstLeaf, uint256 leaves, uint64 deadline);
    /// @notice The trainer revealed the requested values (words as committed, siblings
    ///         of the range); the challenger must pinpoint (or ask again) by `deadline`.
    event ValuesProvided(uint256 indexed id, uint256 opIndex, uint256 firstLeaf, bytes words, bytes32[] siblings, uint64 deadline);
    /// @notice A challenger asked the trainer of `jobId` for transcript records `indices`.
    event RecordsQueried(uint256 indexed id, uint256 indexed jobId, address indexed challenger, uint32[] indices, uint64 deadline);
    /// @notice The trainer revealed the queried records, each with its proof against the
    ///         transcript root: in the log, so an asker has them however the answer was sent
    ///         (a contract wallet's call, an EIP-7702 account's: no calldata of its own).
    event RecordsPosted(uint256 indexed id, uint32[] indices, Record[] records, bytes32[][] proofs);

    /// @notice No dispute `id`.
    error UnknownDispute(uint256 id);
    /// @notice The move is not the one the dispute waits for.
    error WrongPhase(uint256 id, Phase have, Phase want);
    /// @notice The dispute has ended.
    error AlreadyResolved(uint256 id);
    /// @notice `caller` is not `mover`, whose move it is.
    error NotYourMove(uint256 id, address caller, address mover);
    /// @notice The move came after its deadline.
    error DeadlinePassed(uint256 id, uint64 deadline);
    /// @notice A timeout before the deadline.
    error DeadlineNotPassed(uint256 id, uint64 deadline);
    /// @notice Only a submitted job (in its challenge window) can be disputed.
    error JobNotSubmitted(uint256 jobId, TrainingMarketTypes.Status status);
    /// @notice The header does not hash to the job's programHash.
    error ProgramMismatch(bytes32 have, bytes32 want);
    /// @notice No parameter slots, or a step program shorter than the 3P ops that end it.
    error InvalidHeader(uint32 stepOps, uint32 paramSlots);
    /// @notice A step dispute needs step <= steps (records step and step + 1; step = steps: the last record alone).
    error StepOutOfRange(uint32 step, uint32 steps);
    /// @notice Record `index` does not prove to the transcript root.
    error RecordMismatch(uint256 index, bytes32 have, bytes32 want);
    /// @notice The slots root and the step do not hash to S_t.
    error SlotsMismatch(bytes32 have, bytes32 want);
    /// @notice The trace has not one root per op.
    error TraceLength(uint256 have, uint256 want);
    /// @notice The trace does not rebuild the disputed state.
    error StateMismatch(bytes32 have, bytes32 want);
    /// @notice The op does not prove to the program at `opIndex`.
    error OpMismatch(uint256 opIndex, bytes32 have, bytes32 want);
    /// @notice The output root does not prove to the trace at `opIndex`.
    error OutputMismatch(uint256 opIndex, bytes32 have, bytes32 want);
    /// @notice Not one input root per op input.
    error InputCount(uint256 have, uint256 want);
    /// @notice Input `input`'s root does not prove to the slots root or the trace.
    error InputMismatch(uint256 input, bytes32 have, bytes32 want);
    /// @notice An unknown input kind, or a slot read by an init op.
    error InputKind(uint256 input, uint8 kind);
    /// @notice An OP input that is not an earlier op.
    error ForwardInput(uint256 input, uint256 index, uint256 opIndex);
    /// @notice The element is past the op's output (or the output has over 2^64 - 1 elements).
    error ElementOutOfRange(uint256 element, uint256 length);
    /// @notice The opening's length or dtype is not the op's output's.
    error OpeningShape(uint256 length, uint8 dtype, uint256 wantLength, uint8 wantDtype);
    /// @notice The opening does not prove to the committed output root.
    error OpeningMismatch(bytes32 have, bytes32 want);
    /// @notice The opening's elements [first, end) do not include the pinpointed element.
    error ElementNotOpened(uint256 element, uint256 first, uint256 end);
    /// @notice A move time of zero would let every dispute time out at once.
    error InvalidMoveTime(uint64 moveTime);
    /// @notice A value request past the output's `leaves` leaves, of no leaves or of more than MAX_REQUEST_LEAVES.
    error BadRequest(uint256 firstLeaf, uint256 count, uint256 leaves);
    /// @notice The dispute already made MAX_REQUESTS value requests.
    error TooManyRequests(uint256 id);
    /// @notice The revealed values are not the requested leaves.
    error NotRequested(uint256 firstLeaf, uint256 leaves, uint256 wantFirst, uint256 wantLeaves);
    /// @notice A query of no records, more than MAX_QUERY_RECORDS, or past the transcript.
    error BadQuery(uint256 count, uint256 records);
    /// @notice The posted records are not the queried ones.
    error QueryMismatch(uint256 id);
    /// @notice An INIT dispute has no step, so no loss to dispute.
    error NoLossAtInit(uint256 id);
    /// @notice The job's trainer cannot challenge itself.
    error SelfChallenge(uint256 jobId, address trainer);
    /// @notice A bond of zero would make disputes or queries free to flood.
    error ZeroBond();
}
