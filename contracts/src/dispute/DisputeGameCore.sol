// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {TrainingMarket} from "../TrainingMarket.sol";
import {TrainingMarketTypes} from "../market/TrainingMarketTypes.sol";
import {StepOps, IOpProver} from "./StepOps.sol";
import {NodeMerkle} from "./NodeMerkle.sol";
import {DisputeGameTypes} from "./DisputeGameTypes.sol";
import {PinpointChecks} from "./PinpointChecks.sol";

/// @title DisputeGameCore
/// @notice What every move of the dispute game shares: its parameters and disputes, and
///         the internal steps of a move (whose turn, the next deadline, the start and the
///         end of a dispute, proofs against the program, the trace and the transcript).
/// @dev Balances: `token.balanceOf(this) == Σ bond of disputes not Resolved`; every
///      payment out goes through {_pay}.
abstract contract DisputeGameCore is DisputeGameTypes, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

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

    /// @notice Per job: moves the trainer owes now, across its disputes and queries (see {_trainerDeadline}).
    mapping(uint256 => uint32) public trainerMovesDue;
    /// @notice Per job: who queried its records inside the challenge window. Only their
    ///         answers hold the job past it (see {DisputeAvailability.postRecords}), so no
    ///         account made after the window can hold a job.
    mapping(uint256 => mapping(address => bool)) public askedInWindow;
    /// @notice Bounds of the move time: long enough to answer, short enough to end.
    uint64 public constant MIN_MOVE_TIME = 5 minutes;
    uint64 public constant MAX_MOVE_TIME = 7 days;

    uint256 public disputeCount;
    mapping(uint256 => Dispute) internal disputes;

    /// @param owner_ Who sets the bond and the move time (governance).
    constructor(IERC20 token_, TrainingMarket market_, IOpProver verifier_, address owner_) Ownable(owner_) {
        token = token_;
        market = market_;
        verifier = verifier_;
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
        _leave(d);
        bool trainers = phase == Phase.AwaitReveal || phase == Phase.AwaitValues;
        deadline = trainers ? _trainerDeadline(d.jobId, d.moveTime) : uint64(block.timestamp) + d.moveTime;
        d.phase = phase;
        d.deadline = deadline;
        d.moves += 1;
    }

    /// @dev The deadline of a trainer's move on job `jobId`: one move time for each move
    ///      it owes on that job, this one included. However many disputes and queries open
    ///      at once, the trainer has a full move time for each, one after the other: a
    ///      flood cannot make an honest trainer miss a deadline.
    function _trainerDeadline(uint256 jobId, uint64 moveTime_) internal returns (uint64 deadline) {
        uint32 due = trainerMovesDue[jobId] + 1;
        trainerMovesDue[jobId] = due;
        // due <= disputes of the job and moveTime <= MAX_MOVE_TIME: far below 2^64
        deadline = uint64(block.timestamp) + moveTime_ * due;
    }

    /// @dev The dispute leaves its phase: if it waited for the trainer, one move less is owed.
    function _leave(Dispute storage d) internal {
        Phase p = d.phase;
        if (p == Phase.AwaitTrace || p == Phase.AwaitReveal || p == Phase.AwaitValues || p == Phase.AwaitRecords) {
            trainerMovesDue[d.jobId] -= 1;
        }
    }

    /// @dev The rest of open: parties, context, first deadline; then the market's hold
    ///      and the bond.
    function _start(Dispute storage d, uint256 jobId, uint32 step, TrainingMarketTypes.Job memory job, uint96 bond_) internal returns (uint64 deadline) {
        if (msg.sender == job.trainer) revert SelfChallenge(jobId, msg.sender);
        uint64 moveTime_ = moveTime;
        deadline = _trainerDeadline(jobId, moveTime_);
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
        _leave(d);
        d.phase = Phase.Resolved;
        d.reason = reason;
        address challenger = d.challenger;
        uint256 jobId = d.jobId;
        emit DisputeResolved(id, jobId, challengerWon, reason);

        // A query won by silence slashes the trainer, but its challenger takes no share:
        // a cheater's own standing query cannot redirect the reward of a real dispute.
        address beneficiary = d.queryHash == bytes32(0) ? challenger : address(0);
        if (market.getJob(jobId).status == TrainingMarketTypes.Status.Submitted) market.disputeResolved(jobId, d.number, !challengerWon, beneficiary);
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
        PinpointChecks.proveLeaf(leaf, index, count, proof, want, output);
    }

    /// @dev The tensor root of every input, each bound to the job, the program or the
    ///      trainer's own commitments (S_t's slots, none for INIT; the trace; the tokens).
    function _inputRoots(Dispute storage d, uint256 opIndex, StepOps.OpInput[] calldata inputs, InputRoot[] calldata given)
        internal
        view
        returns (bytes32[] memory)
    {
        uint256 slots = d.step == INIT ? 0 : 3 * uint256(d.paramSlots);
        return PinpointChecks.inputRoots(PinpointChecks.Commitments(d.slotsRoot, slots, d.traceRoot, d.opsCount, d.tokensRoot), opIndex, inputs, given);
    }

    /// @dev The product of the dims; at most 2^64 - 1 so it packs into storage.
    function _outputLength(uint32[] calldata dims) internal pure returns (uint256) {
        return PinpointChecks.outputLength(dims);
    }
}
