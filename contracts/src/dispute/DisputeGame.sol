// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TrainingMarket} from "../TrainingMarket.sol";
import {StepOps, IOpProver} from "./StepOps.sol";
import {NodeMerkle} from "./NodeMerkle.sol";
import {TensorMerkle} from "./TensorMerkle.sol";

/// @title DisputeGame
/// @notice The pinpoint dispute of DESIGN §6 and docs/step-program.md: a challenger
///         proves two consecutive states of a job's transcript (or S_0 alone), the
///         trainer posts every op output root of that step, the challenger names one
///         output element and proves the op's inputs against the trainer's own roots,
///         the contract computes the element with the one-step verifier, and the trainer
///         opens its committed element: three moves after open, each with a deadline;
///         whoever misses one loses. Data availability is forced on-chain: before
///         pinpointing, the challenger may make the trainer reveal the values of a
///         range of an op's output ({requestValues} / {provideValues}), and with a
///         query ({openQuery} / {postRecords}) any records of the transcript; a trainer
///         who withholds them loses by timeout (docs/step-program.md).
/// @dev Balances: `token.balanceOf(this) == Σ bond of disputes not Resolved`; every
///      payment out goes through {_pay}. The loser of a dispute is reported to the
///      market, which slashes a losing trainer's job stake through the StakeRegistry.
contract DisputeGame is Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

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

    IERC20 public immutable token;
    TrainingMarket public immutable market;
    /// @notice The one-step verifier; fixed for the life of this game, so no dispute can
    ///         change rules midway (a new verifier means a new game authorised by the market).
    IOpProver public immutable verifier;

    /// @notice Tokens a challenger deposits at open: returned if it wins, paid to the trainer if not.
    uint96 public bond = 100 ether;
    /// @notice Seconds each party has for its move.
    uint64 public moveTime = 1 hours;
    /// @notice Tokens a query of transcript records costs: paid to the trainer, whose gas
    ///         it covers, when it answers; returned if it does not (and it is slashed).
    uint96 public queryBond = 1 ether;

    /// @notice The most leaves one value request may ask for (4096 elements).
    uint256 public constant MAX_REQUEST_LEAVES = 512;
    /// @notice The most value requests in one dispute: enough to walk down to any leaf of
    ///         a tensor of 2^33 leaves (docs/step-program.md).
    uint8 public constant MAX_REQUESTS = 24;
    /// @notice The most records one query may ask for.
    uint256 public constant MAX_QUERY_RECORDS = 32;

    uint256 public disputeCount;
    mapping(uint256 => Dispute) internal disputes;

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
    /// @notice The trainer revealed the queried records.
    event RecordsPosted(uint256 indexed id, uint32[] indices, Record[] records);

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
    error JobNotSubmitted(uint256 jobId, TrainingMarket.Status status);
    /// @notice The header does not hash to the job's programHash.
    error ProgramMismatch(bytes32 have, bytes32 want);
    /// @notice No parameter slots, or a step program shorter than the 3P ops that end it.
    error InvalidHeader(uint32 stepOps, uint32 paramSlots);
    /// @notice A step dispute needs step < steps (records step and step + 1).
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

    /// @param owner_ Who sets the bond and the move time (governance).
    constructor(IERC20 token_, TrainingMarket market_, IOpProver verifier_, address owner_) Ownable(owner_) {
        token = token_;
        market = market_;
        verifier = verifier_;
    }

    // ---------------------------------------------------------------- moves

    /// @notice Opens a dispute over step `step` of a submitted job (or over S_0 when
    ///         `step == INIT`), depositing `bond` (requires an allowance). The job must be
    ///         in its challenge window (the market checks) and this game authorised by it.
    /// @param header The preimage of the job's programHash.
    /// @param proof Records `step` and `step + 1` and the slots root of S_t (see {StepProof});
    ///        for INIT only record 0 and its proof are read.
    /// @return id The dispute; the trainer must now {postOpTrace} within `moveTime`.
    /// @dev Emits {DisputeOpened}. Reverts {JobNotSubmitted}, {ProgramMismatch},
    ///      {InvalidHeader}, {StepOutOfRange}, {RecordMismatch}, {SlotsMismatch}.
    function open(uint256 jobId, uint32 step, Header calldata header, StepProof calldata proof)
        external
        nonReentrant
        returns (uint256 id)
    {
        TrainingMarket.Job memory job = market.getJob(jobId);
        if (job.status != TrainingMarket.Status.Submitted) revert JobNotSubmitted(jobId, job.status);
        bytes32 programHash = keccak256(abi.encode(header));
        if (programHash != job.spec.programHash) revert ProgramMismatch(programHash, job.spec.programHash);
        uint256 slots = 3 * uint256(header.paramSlots);
        if (header.paramSlots == 0 || header.stepOps < slots || header.lossOp >= header.stepOps) {
            revert InvalidHeader(header.stepOps, header.paramSlots);
        }

        id = disputeCount++;
        Dispute storage d = disputes[id];
        uint256 records = uint256(job.spec.steps) + 1;
        if (step == INIT) {
            _proveRecord(job.transcriptRoot, records, 0, proof.recordBefore, proof.beforeProof);
            d.opsRoot = header.initOpsRoot;
            // slots <= stepOps, a uint32
            d.opsCount = uint32(slots);
            d.state = proof.recordBefore.state;
        } else {
            if (step >= job.spec.steps) revert StepOutOfRange(step, job.spec.steps);
            _proveRecord(job.transcriptRoot, records, step, proof.recordBefore, proof.beforeProof);
            _proveRecord(job.transcriptRoot, records, uint256(step) + 1, proof.recordAfter, proof.afterProof);
            bytes32 state = keccak256(abi.encodePacked(proof.slotsRoot, uint256(step)));
            if (state != proof.recordBefore.state) revert SlotsMismatch(state, proof.recordBefore.state);
            d.opsRoot = header.stepOpsRoot;
            d.opsCount = header.stepOps;
            d.slotsRoot = proof.slotsRoot;
            d.state = proof.recordAfter.state;
            d.lossOp = header.lossOp;
            d.lossBits = proof.recordBefore.lossBits;
        }
        d.paramSlots = header.paramSlots;
        uint96 bond_ = bond;
        uint64 deadline = _start(d, jobId, step, job, bond_);
        emit DisputeOpened(id, jobId, msg.sender, step, bond_, deadline);
    }

    /// @notice The trainer posts the output root of every op of the disputed step, in
    ///         program order (for INIT: the 3P slot roots of S_0). They must rebuild the
    ///         disputed state: S_{t+1} = keccak256(nodeRoot(roots[n-P..n) ‖ roots[n-3P..n-2P)
    ///         ‖ roots[n-2P..n-P)) ‖ uint256(t + 1)), or S_0 = keccak256(nodeRoot(roots) ‖ 0).
    /// @dev Only the job's trainer, phase AwaitTrace, before the deadline. Emits
    ///      {OpTracePosted}. Reverts {TraceLength}, {StateMismatch}.
    function postOpTrace(uint256 id, bytes32[] calldata roots) external nonReentrant {
        Dispute storage d = _move(id, Phase.AwaitTrace);
        uint256 n = roots.length;
        if (n != d.opsCount) revert TraceLength(n, d.opsCount);
        bytes32 traceRoot = NodeMerkle.root(roots);
        bytes32 state;
        if (d.step == INIT) {
            state = keccak256(abi.encodePacked(traceRoot, uint256(0)));
        } else {
            uint256 p = d.paramSlots;
            bytes32[] memory slots = new bytes32[](3 * p);
            // The step program ends with m' of every slot, then v', then p'; the state
            // orders slots p, m, v. n >= 3P was checked at open.
            for (uint256 i = 0; i < p; i++) {
                slots[i] = roots[n - p + i];
                slots[p + i] = roots[n - 3 * p + i];
                slots[2 * p + i] = roots[n - 2 * p + i];
            }
            state = keccak256(abi.encodePacked(NodeMerkle.root(slots), uint256(d.step) + 1));
        }
        if (state != d.state) revert StateMismatch(state, d.state);
        d.traceRoot = traceRoot;
        _next(d, Phase.AwaitPinpoint);
        emit OpTracePosted(id, roots);
    }

    /// @notice The challenger names an output element of one op of the disputed program
    ///         and proves the op and its inputs (see {Pinpoint}); the contract computes
    ///         with the verifier what the element must be.
    /// @dev Only the challenger, phase AwaitPinpoint, before the deadline. Emits
    ///      {Pinpointed}. Reverts {OpMismatch}, {OutputMismatch}, {ElementOutOfRange},
    ///      {InputCount}, {InputKind}, {ForwardInput}, {InputMismatch}, and whatever the
    ///      verifier reverts with for openings that do not prove.
    function pinpoint(uint256 id, Pinpoint calldata p) external nonReentrant {
        Dispute storage d = _move(id, Phase.AwaitPinpoint);
        uint256 opIndex = p.opIndex;
        _proveLeaf(keccak256(abi.encode(p.op)), opIndex, d.opsCount, p.opProof, d.opsRoot, false);
        _proveLeaf(p.outputRoot, opIndex, d.opsCount, p.outputProof, d.traceRoot, true);
        uint256 length = _outputLength(p.op.dims);
        if (p.element >= length) revert ElementOutOfRange(p.element, length);
        bytes32[] memory roots = _inputRoots(d, opIndex, p.op.inputs, p.inputRoots);
        uint32 step = d.step == INIT ? 0 : d.step;
        uint32 expected = verifier.evaluate(p.op, p.element, StepOps.Context(d.seed, step), roots, p.openings);

        // opIndex < opsCount (a uint32) and element < length <= 2^64 - 1, both checked above
        d.opIndex = uint32(opIndex);
        d.element = uint64(p.element);
        d.outputLength = uint64(length);
        d.dtype = p.op.dtype;
        d.outputRoot = p.outputRoot;
        d.expected = expected;
        uint64 deadline = _next(d, Phase.AwaitReveal);
        emit Pinpointed(id, opIndex, p.element, p.outputRoot, expected, deadline);
    }

    /// @notice The trainer opens the pinpointed element of its committed output: equal
    ///         to what the verifier computed, the trainer wins; different, it loses.
    /// @param opening A range proof (TensorMerkle.rootFromRange) of the op's output
    ///        root with the op's output length and dtype, covering the element.
    /// @dev Only the trainer, phase AwaitReveal, before the deadline. Emits {Revealed}
    ///      and {DisputeResolved}. Reverts {OpeningShape}, {OpeningMismatch},
    ///      {ElementNotOpened}. Committed words are compared bit for bit: the commitment
    ///      already holds NaN canonical, and so does the verifier's value.
    function reveal(uint256 id, StepOps.Opening calldata opening) external nonReentrant {
        Dispute storage d = _move(id, Phase.AwaitReveal);
        if (opening.length != d.outputLength || opening.dtype != d.dtype) {
            revert OpeningShape(opening.length, opening.dtype, d.outputLength, d.dtype);
        }
        bytes32 root = TensorMerkle.rootFromRange(opening.length, opening.dtype, opening.firstLeaf, opening.words, opening.siblings);
        if (root != d.outputRoot) revert OpeningMismatch(root, d.outputRoot);
        // rootFromRange checked the range lies inside the tensor, so these cannot overflow.
        uint256 first = opening.firstLeaf * 8;
        uint256 end = first + opening.words.length / 4;
        uint256 element = d.element;
        if (element < first || element >= end) revert ElementNotOpened(element, first, end);
        uint256 offset = (element - first) * 4;
        uint32 committed = uint32(bytes4(opening.words[offset:offset + 4]));
        uint32 expected = d.expected;
        d.moves += 1;
        emit Revealed(id, committed, expected);
        bool challengerWon = committed != expected;
        _resolve(id, d, challengerWon, challengerWon ? Reason.Mismatch : Reason.Match);
    }

    /// @notice A lie about the loss: the challenger claims that the loss record t commits
    ///         to is not element 0 of the loss op's output in the trainer's own trace. The
    ///         trainer must open that element ({reveal}); it wins if it equals the
    ///         recorded loss. (A wrong loss op output is pinpointed like any other op.)
    /// @dev Only the challenger, phase AwaitPinpoint of a step dispute, before the
    ///      deadline. Emits {Pinpointed}. Reverts {InputKind} for an INIT dispute,
    ///      {OpMismatch}, {OutputMismatch}.
    function pinpointLoss(uint256 id, StepOps.Op calldata op, bytes32[] calldata opProof, bytes32 outputRoot, bytes32[] calldata outputProof)
        external
        nonReentrant
    {
        Dispute storage d = _move(id, Phase.AwaitPinpoint);
        if (d.step == INIT) revert InputKind(0, 0);
        uint256 lossOp = d.lossOp;
        _proveLeaf(keccak256(abi.encode(op)), lossOp, d.opsCount, opProof, d.opsRoot, false);
        _proveLeaf(outputRoot, lossOp, d.opsCount, outputProof, d.traceRoot, true);
        uint256 length = _outputLength(op.dims);
        if (length == 0) revert ElementOutOfRange(0, 0);
        d.opIndex = uint32(lossOp);
        d.element = 0;
        d.outputLength = uint64(length);
        d.dtype = op.dtype;
        d.outputRoot = outputRoot;
        d.expected = d.lossBits;
        uint64 deadline = _next(d, Phase.AwaitReveal);
        emit Pinpointed(id, lossOp, 0, outputRoot, d.lossBits, deadline);
    }

    /// @notice Instead of pinpointing, the challenger makes the trainer reveal leaves
    ///         [firstLeaf, firstLeaf + leaves) of an op output of its trace (cut at the
    ///         tensor's end): the values a pinpoint needs, which the trainer might
    ///         otherwise withhold. The range proof's siblings also tell the challenger
    ///         which subtrees differ from its own, so it can walk down to a differing leaf.
    /// @dev Only the challenger, phase AwaitPinpoint, before the deadline, at most
    ///      MAX_REQUESTS times. Emits {ValuesRequested}. Reverts {TooManyRequests},
    ///      {OpMismatch}, {OutputMismatch}, {BadRequest}.
    function requestValues(uint256 id, ValuesRequest calldata r) external nonReentrant {
        Dispute storage d = _move(id, Phase.AwaitPinpoint);
        if (d.requests >= MAX_REQUESTS) revert TooManyRequests(id);
        _proveLeaf(keccak256(abi.encode(r.op)), r.opIndex, d.opsCount, r.opProof, d.opsRoot, false);
        _proveLeaf(r.outputRoot, r.opIndex, d.opsCount, r.outputProof, d.traceRoot, true);
        uint256 length = _outputLength(r.op.dims);
        uint256 leaves = (length + 7) / 8;
        if (r.leaves == 0 || r.leaves > MAX_REQUEST_LEAVES || r.firstLeaf >= leaves) revert BadRequest(r.firstLeaf, r.leaves, leaves);
        uint256 count = r.leaves < leaves - r.firstLeaf ? r.leaves : leaves - r.firstLeaf;
        // opIndex < opsCount (a uint32), firstLeaf < leaves <= 2^61, count <= 512
        d.opIndex = uint32(r.opIndex);
        d.outputRoot = r.outputRoot;
        d.outputLength = uint64(length);
        d.dtype = r.op.dtype;
        d.element = uint64(r.firstLeaf);
        d.requestedLeaves = uint32(count);
        d.requests += 1;
        uint64 deadline = _next(d, Phase.AwaitValues);
        emit ValuesRequested(id, r.opIndex, r.firstLeaf, count, deadline);
    }

    /// @notice The trainer reveals the requested leaves with a range proof against the
    ///         output root of its trace; the challenger moves next (pinpoint or ask again).
    /// @dev Only the trainer, phase AwaitValues, before the deadline. Emits
    ///      {ValuesProvided}. Reverts {NotRequested}, {OpeningShape}, {OpeningMismatch}.
    function provideValues(uint256 id, StepOps.Opening calldata opening) external nonReentrant {
        Dispute storage d = _move(id, Phase.AwaitValues);
        uint256 leaves = opening.words.length / 32;
        if (opening.firstLeaf != d.element || leaves != d.requestedLeaves || opening.words.length % 32 != 0) {
            revert NotRequested(opening.firstLeaf, leaves, d.element, d.requestedLeaves);
        }
        if (opening.length != d.outputLength || opening.dtype != d.dtype) {
            revert OpeningShape(opening.length, opening.dtype, d.outputLength, d.dtype);
        }
        bytes32 root = TensorMerkle.rootFromRange(opening.length, opening.dtype, opening.firstLeaf, opening.words, opening.siblings);
        if (root != d.outputRoot) revert OpeningMismatch(root, d.outputRoot);
        uint64 deadline = _next(d, Phase.AwaitPinpoint);
        emit ValuesProvided(id, d.opIndex, opening.firstLeaf, opening.words, opening.siblings, deadline);
    }

    /// @notice Asks the trainer of a submitted job for transcript records `indices` (at
    ///         most MAX_QUERY_RECORDS, each <= steps), depositing `queryBond`: the records
    ///         a challenger needs to find the first wrong step and to open a dispute. The
    ///         query holds finalisation like a dispute; a trainer who does not answer
    ///         within `moveTime` is slashed.
    /// @return id The query, a dispute in phase AwaitRecords.
    /// @dev Emits {RecordsQueried}. Reverts {JobNotSubmitted}, {BadQuery}.
    function openQuery(uint256 jobId, uint32[] calldata indices) external nonReentrant returns (uint256 id) {
        TrainingMarket.Job memory job = market.getJob(jobId);
        if (job.status != TrainingMarket.Status.Submitted) revert JobNotSubmitted(jobId, job.status);
        uint256 records = uint256(job.spec.steps) + 1;
        if (indices.length == 0 || indices.length > MAX_QUERY_RECORDS) revert BadQuery(indices.length, records);
        for (uint256 i = 0; i < indices.length; i++) {
            if (indices[i] >= records) revert BadQuery(indices.length, records);
        }
        id = disputeCount++;
        Dispute storage d = disputes[id];
        d.state = job.transcriptRoot;
        d.outputLength = uint64(records); // steps + 1 <= 2^32
        d.queryHash = keccak256(abi.encode(indices));
        uint64 deadline = _start(d, jobId, 0, job, queryBond);
        d.phase = Phase.AwaitRecords;
        emit RecordsQueried(id, jobId, msg.sender, indices, deadline);
    }

    /// @notice The trainer answers a query with the records and their proofs against
    ///         its transcript root; the query ends and its bond pays the trainer's gas.
    /// @dev Only the trainer, phase AwaitRecords, before the deadline. Emits
    ///      {RecordsPosted} and {DisputeResolved}. Reverts {QueryMismatch}, {RecordMismatch}.
    function postRecords(uint256 id, uint32[] calldata indices, Record[] calldata records, bytes32[][] calldata proofs)
        external
        nonReentrant
    {
        Dispute storage d = _move(id, Phase.AwaitRecords);
        if (keccak256(abi.encode(indices)) != d.queryHash || records.length != indices.length || proofs.length != indices.length) {
            revert QueryMismatch(id);
        }
        for (uint256 i = 0; i < indices.length; i++) _proveRecord(d.state, d.outputLength, indices[i], records[i], proofs[i]);
        d.moves += 1;
        emit RecordsPosted(id, indices, records);
        _resolve(id, d, false, Reason.Answered);
    }

    /// @notice Anyone ends a dispute whose mover missed its deadline: no trace, no reveal,
    ///         no requested values or no queried records, the challenger wins; no
    ///         pinpoint, the trainer wins.
    /// @dev Emits {DisputeResolved}. Reverts {UnknownDispute}, {AlreadyResolved},
    ///      {DeadlineNotPassed}.
    function timeout(uint256 id) external nonReentrant {
        Dispute storage d = _dispute(id);
        Phase phase = d.phase;
        if (phase == Phase.Resolved) revert AlreadyResolved(id);
        if (block.timestamp <= d.deadline) revert DeadlineNotPassed(id, d.deadline);
        if (phase == Phase.AwaitTrace) _resolve(id, d, true, Reason.TraceTimeout);
        else if (phase == Phase.AwaitPinpoint) _resolve(id, d, false, Reason.PinpointTimeout);
        else if (phase == Phase.AwaitValues) _resolve(id, d, true, Reason.ValuesTimeout);
        else if (phase == Phase.AwaitRecords) _resolve(id, d, true, Reason.RecordsTimeout);
        else _resolve(id, d, true, Reason.RevealTimeout);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the bond of new disputes and the time per move (open disputes keep
    ///         their bond; new deadlines use the new time). Only the owner.
    /// @dev Emits {ParametersSet}. Reverts {InvalidMoveTime} for a zero move time.
    function setParameters(uint96 bond_, uint64 moveTime_) external onlyOwner {
        if (moveTime_ == 0) revert InvalidMoveTime(moveTime_);
        bond = bond_;
        moveTime = moveTime_;
        emit ParametersSet(bond_, moveTime_);
    }

    /// @notice Sets the bond of new queries. Only the owner. Emits {QueryBondSet}.
    function setQueryBond(uint96 queryBond_) external onlyOwner {
        queryBond = queryBond_;
        emit QueryBondSet(queryBond_);
    }

    // ---------------------------------------------------------------- views

    /// @notice A dispute's whole record. Reverts {UnknownDispute}.
    function getDispute(uint256 id) external view returns (Dispute memory) {
        return _dispute(id);
    }

    // ---------------------------------------------------------------- internal

    /// @dev The dispute of a move: the phase it waits for, its mover, before its deadline.
    function _move(uint256 id, Phase want) internal view returns (Dispute storage d) {
        d = _dispute(id);
        if (d.phase != want) revert WrongPhase(id, d.phase, want);
        // Only AwaitPinpoint is the challenger's; AwaitTrace, AwaitReveal, AwaitValues and
        // AwaitRecords are the trainer's.
        address mover = want == Phase.AwaitPinpoint ? d.challenger : d.trainer;
        if (msg.sender != mover) revert NotYourMove(id, msg.sender, mover);
        if (block.timestamp > d.deadline) revert DeadlinePassed(id, d.deadline);
    }

    /// @dev Moves on to `phase` with a fresh deadline.
    function _next(Dispute storage d, Phase phase) internal returns (uint64 deadline) {
        deadline = uint64(block.timestamp) + d.moveTime;
        d.phase = phase;
        d.deadline = deadline;
        d.moves += 1;
    }

    /// @dev The rest of open: parties, context, first deadline; then the market's hold
    ///      and the bond.
    function _start(Dispute storage d, uint256 jobId, uint32 step, TrainingMarket.Job memory job, uint96 bond_) internal returns (uint64 deadline) {
        uint64 moveTime_ = moveTime;
        deadline = uint64(block.timestamp) + moveTime_;
        d.moveTime = moveTime_;
        d.challenger = msg.sender;
        d.bond = bond_;
        d.trainer = job.trainer;
        d.deadline = deadline;
        d.step = step;
        d.seed = job.spec.seed;
        d.phase = Phase.AwaitTrace;
        // jobId < the market's job count, far below 2^64
        d.jobId = uint64(jobId);
        d.tokensRoot = job.spec.tokensRoot;
        d.number = market.disputeOpened(jobId);
        if (bond_ > 0) token.safeTransferFrom(msg.sender, address(this), bond_);
    }

    /// @dev Ends the dispute: the market learns the outcome (and slashes a losing
    ///      trainer), the bond goes back to a winning challenger or to a winning trainer.
    ///      If another dispute already slashed the job, the market has nothing left to
    ///      settle and only the bond moves.
    function _resolve(uint256 id, Dispute storage d, bool challengerWon, Reason reason) internal {
        d.phase = Phase.Resolved;
        d.reason = reason;
        address challenger = d.challenger;
        uint256 jobId = d.jobId;
        emit DisputeResolved(id, jobId, challengerWon, reason);

        if (market.getJob(jobId).status == TrainingMarket.Status.Submitted) market.disputeResolved(jobId, d.number, !challengerWon, challenger);
        _pay(challengerWon ? challenger : d.trainer, d.bond);
    }

    /// @dev The one place tokens leave this contract.
    function _pay(address to, uint256 amount) internal {
        if (amount > 0) token.safeTransfer(to, amount);
    }

    function _dispute(uint256 id) internal view returns (Dispute storage d) {
        d = disputes[id];
        if (d.phase == Phase.None) revert UnknownDispute(id);
    }

    /// @dev Record `index` of a transcript of `count` records.
    function _proveRecord(bytes32 transcriptRoot, uint256 count, uint256 index, Record calldata record, bytes32[] calldata proof)
        internal
        pure
    {
        bytes32 leaf = keccak256(abi.encodePacked(uint8(3), record.state, record.lossBits));
        bytes32 root = keccak256(abi.encodePacked(NodeMerkle.rootFromLeaf(leaf, index, count, proof), count));
        if (root != transcriptRoot) revert RecordMismatch(index, root, transcriptRoot);
    }

    /// @dev `leaf` at `index` of a NodeMerkle tree of `count` leaves with root `want`:
    ///      an op of the program, or (`output`) an op output root of the trace.
    function _proveLeaf(bytes32 leaf, uint256 index, uint256 count, bytes32[] calldata proof, bytes32 want, bool output)
        internal
        pure
    {
        bytes32 root = NodeMerkle.rootFromLeaf(leaf, index, count, proof);
        if (root == want) return;
        if (output) revert OutputMismatch(index, root, want);
        revert OpMismatch(index, root, want);
    }

    /// @dev The tensor root of every input, each bound to the job, the program or the
    ///      trainer's own commitments.
    function _inputRoots(Dispute storage d, uint256 opIndex, StepOps.OpInput[] calldata inputs, InputRoot[] calldata given)
        internal
        view
        returns (bytes32[] memory roots)
    {
        uint256 n = inputs.length;
        if (given.length != n) revert InputCount(given.length, n);
        roots = new bytes32[](n);
        bool init = d.step == INIT;
        for (uint256 i = 0; i < n; i++) {
            StepOps.OpInput calldata input = inputs[i];
            uint8 kind = input.kind;
            if (kind == StepOps.SLOT && !init) {
                bytes32 root = NodeMerkle.rootFromLeaf(given[i].root, input.index, 3 * uint256(d.paramSlots), given[i].proof);
                if (root != d.slotsRoot) revert InputMismatch(i, root, d.slotsRoot);
                roots[i] = given[i].root;
            } else if (kind == StepOps.OP) {
                if (input.index >= opIndex) revert ForwardInput(i, input.index, opIndex);
                bytes32 root = NodeMerkle.rootFromLeaf(given[i].root, input.index, d.opsCount, given[i].proof);
                if (root != d.traceRoot) revert InputMismatch(i, root, d.traceRoot);
                roots[i] = given[i].root;
            } else if (kind == StepOps.TOKENS) {
                roots[i] = d.tokensRoot;
            } else if (kind == StepOps.CONSTANT) {
                roots[i] = input.root;
            } else {
                // an unknown kind, or a slot of the state before S_0
                revert InputKind(i, kind);
            }
        }
    }

    /// @dev The product of the dims; at most 2^64 - 1 so it packs into storage.
    function _outputLength(uint32[] calldata dims) internal pure returns (uint256 length) {
        length = 1;
        for (uint256 i = 0; i < dims.length; i++) {
            length *= dims[i];
            if (length > type(uint64).max) revert ElementOutOfRange(0, length);
        }
    }
}
