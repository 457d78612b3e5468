// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TrainingMarket} from "../TrainingMarket.sol";
import {TrainingMarketTypes} from "../market/TrainingMarketTypes.sol";
import {StepOps, IOpProver} from "./StepOps.sol";
import {NodeMerkle} from "./NodeMerkle.sol";
import {PinpointChecks} from "./PinpointChecks.sol";
import {DisputeGameCore} from "./DisputeGameCore.sol";
import {DisputeAvailability} from "./DisputeAvailability.sol";

/// @title DisputeGame
/// @notice The pinpoint dispute of docs/design.md §6 and docs/step-program.md: a challenger
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
contract DisputeGame is DisputeAvailability {
    /// @param owner_ Who sets the bonds and the move time (governance).
    constructor(IERC20 token_, TrainingMarket market_, IOpProver verifier_, address owner_)
        DisputeGameCore(token_, market_, verifier_, owner_)
    {}

    // ---------------------------------------------------------------- moves

    /// @notice Opens a dispute over step `step` of a submitted job (or over S_0 when
    ///         `step == INIT`), depositing `bond` (requires an allowance). The job must be
    ///         in its challenge window (the market checks) and this game authorised by it.
    /// @param header The preimage of the job's programHash.
    /// @param proof Records `step` and `step + 1` and the slots root of S_t (see {StepProof});
    ///        for INIT only record 0 and its proof are read; for `step == steps` (the last
    ///        record's loss, an evaluation of S_T) record `steps` and the slots root.
    /// @return id The dispute; the trainer must now {postOpTrace} within `moveTime`.
    /// @dev Emits {DisputeOpened}. Reverts {JobNotSubmitted}, {ProgramMismatch},
    ///      {InvalidHeader}, {StepOutOfRange}, {RecordMismatch}, {SlotsMismatch}.
    function open(uint256 jobId, uint32 step, Header calldata header, StepProof calldata proof)
        external
        nonReentrant
        returns (uint256 id)
    {
        TrainingMarketTypes.Job memory job = market.getJob(jobId);
        if (job.status != TrainingMarketTypes.Status.Submitted) revert JobNotSubmitted(jobId, job.status);
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
            if (step > job.spec.steps) revert StepOutOfRange(step, job.spec.steps);
            _proveRecord(job.transcriptRoot, records, step, proof.recordBefore, proof.beforeProof);
            // Step T has no record T + 1: a dispute over the last record's loss (evaluated
            // on S_T by the same step program) binds the trace to no next state.
            if (step == job.spec.steps) d.evaluation = true;
            else _proveRecord(job.transcriptRoot, records, uint256(step) + 1, proof.recordAfter, proof.afterProof);
            bytes32 state = keccak256(abi.encodePacked(proof.slotsRoot, uint256(step)));
            if (state != proof.recordBefore.state) revert SlotsMismatch(state, proof.recordBefore.state);
            d.opsRoot = header.stepOpsRoot;
            d.opsCount = header.stepOps;
            d.slotsRoot = proof.slotsRoot;
            d.state = d.evaluation ? bytes32(0) : proof.recordAfter.state;
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
    ///         A dispute over step T (the last record's loss) rebuilds no state.
    /// @dev Only the job's trainer, phase AwaitTrace, before the deadline. Emits
    ///      {OpTracePosted}. Reverts {TraceLength}, {StateMismatch}.
    function postOpTrace(uint256 id, bytes32[] calldata roots) external nonReentrant {
        Dispute storage d = _move(id, Phase.AwaitTrace);
        uint256 n = roots.length;
        if (n != d.opsCount) revert TraceLength(n, d.opsCount);
        bytes32 traceRoot = NodeMerkle.root(roots);
        bytes32 state;
        if (d.evaluation) {
            state = d.state; // nothing to rebuild: only the ops up to the loss op count
        } else if (d.step == INIT) {
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
        uint32 committed = PinpointChecks.committedElement(opening, d.outputLength, d.dtype, d.outputRoot, d.element);
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
    ///      deadline. Emits {Pinpointed}. Reverts {NoLossAtInit} for an INIT dispute,
    ///      {OpMismatch}, {OutputMismatch}.
    function pinpointLoss(uint256 id, StepOps.Op calldata op, bytes32[] calldata opProof, bytes32 outputRoot, bytes32[] calldata outputProof)
        external
        nonReentrant
    {
        Dispute storage d = _move(id, Phase.AwaitPinpoint);
        if (d.step == INIT) revert NoLossAtInit(id);
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
    /// @dev Emits {ParametersSet}. Reverts {InvalidMoveTime} outside [MIN_MOVE_TIME,
    ///      MAX_MOVE_TIME], {ZeroBond}.
    function setParameters(uint96 bond_, uint64 moveTime_) external onlyOwner {
        if (moveTime_ < MIN_MOVE_TIME || moveTime_ > MAX_MOVE_TIME) revert InvalidMoveTime(moveTime_);
        if (bond_ == 0) revert ZeroBond();
        bond = bond_;
        moveTime = moveTime_;
        emit ParametersSet(bond_, moveTime_);
    }

    /// @notice Sets the bond of new queries. Only the owner. Emits {QueryBondSet}.
    function setQueryBond(uint96 queryBond_) external onlyOwner {
        if (queryBond_ == 0) revert ZeroBond();
        queryBond = queryBond_;
        emit QueryBondSet(queryBond_);
    }

    // ---------------------------------------------------------------- views

    /// @notice A dispute's whole record. Reverts {UnknownDispute}.
    function getDispute(uint256 id) external view returns (Dispute memory) {
        return _dispute(id);
    }
}
