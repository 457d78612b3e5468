// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {StepOps, IOpProver} from "../dispute/StepOps.sol";
import {NodeMerkle} from "../dispute/NodeMerkle.sol";
import {PinpointChecks} from "../dispute/PinpointChecks.sol";
import {ValuesRounds} from "../dispute/ValuesRounds.sol";
import {ServiceRegistry} from "./ServiceRegistry.sol";
import {PaymentChannel} from "./PaymentChannel.sol";
import {InferenceDisputeTypes} from "./InferenceDisputeTypes.sol";
import {ReceiptWindow} from "./ReceiptWindow.sol";

/// @title InferenceDisputes
/// @notice A generated token disputed on-chain (docs/inference.md): anyone holding a
///         provider's signed receipt, its prompt and output replays the generation; at the
///         first token that differs it opens a dispute over the forward program of that
///         token's window, and the pinpoint game of training (docs/step-program.md) runs on
///         it with the same one-step verifier: the provider posts its model's slot roots
///         (they must rebuild the receipt's model root) and every op output root, the
///         challenger names one element, the provider opens it. A liar, or a provider who
///         misses a move, loses the service's stake through ServiceRegistry.slash; a wrong
///         challenger loses its bond to the provider. A provider that withholds its op
///         outputs is made to reveal ranges of them on-chain ({requestValues} /
///         {provideValues}), as in the training game. Greedy and sampled answers alike: a
///         sampled answer's program ends in the sampling ops (verified by a ForwardVerifier).
///         The client who paid for a wrong answer (the client of the receipt's channel, who
///         need not be the challenger) gets its cost back from the slashed stake first, once
///         per payment; the challenger's share is of the rest.
/// @dev Balances: `token.balanceOf(this) == Σ bond of disputes not Resolved`; every
///      payment out goes through {_pay}.
contract InferenceDisputes is InferenceDisputeTypes, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    ServiceRegistry public immutable services;
    IOpProver public immutable verifier;
    /// @notice Where the receipts' channels are: the client of a wrong answer's channel is refunded.
    PaymentChannel public immutable channels;

    /// @notice The most value requests one dispute may make, and leaves one may ask for (the training game's).
    uint8 public constant MAX_REQUESTS = 24;
    uint256 public constant MAX_REQUEST_LEAVES = 512;
    /// @notice The most one refund takes of the stake left, in basis points (10%): a provider
    ///         that lies to a client of its own and concedes still loses most of its stake to
    ///         the treasury (an answer's cost is far below it for honest clients).
    uint256 public constant MAX_REFUND_BPS = 1_000;

    uint96 public bond = 10 ether;
    uint64 public moveTime = 1 hours;
    /// @notice Where the slashed stake that is not the challenger's share goes.
    address public treasury;

    uint256 public disputeCount;
    mapping(uint256 => GenDispute) internal disputes;
    mapping(uint256 => Programs) public programsOf;
    /// @notice The refund a dispute owes the paying client if the provider loses (set at open).
    mapping(uint256 => Refund) public refundOf;
    /// @notice Payments (keccak256(abi.encode(channel, cumulative))) already refunded: each once.
    mapping(bytes32 => bool) public refunded;

    constructor(
        IERC20 token_,
        ServiceRegistry services_,
        IOpProver verifier_,
        PaymentChannel channels_,
        address owner_,
        address treasury_
    ) Ownable(owner_) {
        token = token_;
        services = services_;
        verifier = verifier_;
        channels = channels_;
        treasury = treasury_;
    }

    // ---------------------------------------------------------------- programs

    /// @notice Binds, once, the forward programs a service's answers are disputed by: the
    ///         NodeMerkle root of 2·count program hashes, the greedy programs for windows of
    ///         1..count tokens (count = the model's context), then the sampled ones for the
    ///         same lengths. Clients recompute it from the recipe before paying.
    /// @dev Only the service's provider. Emits {ProgramsSet}. Reverts {ProgramsAlreadySet}.
    function setPrograms(uint256 service, bytes32 root, uint32 count) external {
        ServiceRegistry.Service memory s = services.service(service);
        if (s.provider == address(0) || msg.sender != s.provider) {
            revert NotServiceProvider(service, msg.sender, s.provider);
        }
        if (programsOf[service].count != 0) revert ProgramsAlreadySet(service);
        if (count == 0) revert ProgramsUnset(service);
        programsOf[service] = Programs(root, count);
        emit ProgramsSet(service, root, count);
    }

    // ---------------------------------------------------------------- moves

    /// @notice Opens a dispute over token `claim.index` of an answer, greedy or sampled,
    ///         depositing the bond (requires an allowance): the receipt must be signed by the
    ///         service's provider for the service's model, and the prompt and output must hash
    ///         to it. The window is the last `header.length` tokens of prompt ‖ output[0..index);
    ///         a sampled answer is disputed by the sampled program of that length, whose
    ///         tokens input is the window then the receipt's temperature, top-k and top-p
    ///         words, and whose context is the receipt's seed and the token's index.
    /// @return id The dispute; the provider must now {postTrace} within `moveTime`.
    ///      The receipt names the service and is at most `unbondingDelay` old.
    /// @dev Emits {GenerationDisputed} and {GenerationClaim}. Reverts {ReceiptService}, {ReceiptExpired}, {ReceiptSigner},
    ///      {ReceiptModel}, {TokensMismatch}, {IndexPastOutput}, {ProgramsUnset},
    ///      {WindowLength}, {HeaderMismatch}, {SelfChallenge}.
    function open(Claim calldata claim) external nonReentrant returns (uint256 id) {
        Receipt calldata r = claim.receipt;
        if (r.service != claim.service) revert ReceiptService(r.service, claim.service);
        // A receipt is disputable for the unbonding delay after it was issued: a retired
        // service's stake is released only after that delay, so it is still there to slash.
        uint256 until = uint256(r.issuedAt) + services.unbondingDelay();
        if (block.timestamp > until) revert ReceiptExpired(r.issuedAt, until);
        ServiceRegistry.Service memory s = services.service(claim.service);
        address signer = ECDSA.recover(receiptDigest(r), claim.signature);
        if (signer != s.provider || signer != r.provider) revert ReceiptSigner(signer, s.provider);
        if (r.modelRoot != s.modelRoot) revert ReceiptModel(r.modelRoot, s.modelRoot);
        if (msg.sender == s.provider) revert SelfChallenge(claim.service, msg.sender);
        ReceiptWindow.checkHash(claim.prompt, r.promptHash);
        ReceiptWindow.checkHash(claim.output, r.outputHash);
        if (claim.index >= claim.output.length) revert IndexPastOutput(claim.index, claim.output.length);

        id = disputeCount++;
        GenDispute storage d = disputes[id];
        _bindProgram(d, claim);
        d.opsCount = claim.header.ops;
        d.paramSlots = claim.header.paramSlots;
        d.claimed = claim.output[claim.index];
        d.service = claim.service;
        d.modelRoot = s.modelRoot;
        d.provider = s.provider;
        d.challenger = msg.sender;
        uint96 bond_ = bond;
        d.bond = bond_;
        d.moveTime = moveTime;
        d.phase = Phase.AwaitTrace;
        d.deadline = uint64(block.timestamp) + d.moveTime;
        _noteRefund(id, r, s.provider);
        if (bond_ > 0) token.safeTransferFrom(msg.sender, address(this), bond_);
        emit GenerationDisputed(id, claim.service, msg.sender, claim.index, d.claimed, d.deadline);
        emit GenerationClaim(id, claim);
    }

    /// @notice The provider posts the 3P slot roots of the state it serves (with its step)
    ///         and the output root of every op of the window's forward program. The slots
    ///         must rebuild the receipt's model root. The last op is the pick: if its root
    ///         is not the token the receipt answered, the provider loses at once.
    /// @dev Only the provider, phase AwaitTrace, before the deadline. Emits
    ///      {GenerationTracePosted} (and {DisputeResolved} on a pick that is not the
    ///      answer). Reverts {TraceLength}, {StateMismatch}.
    function postTrace(uint256 id, bytes32[] calldata slotRoots, uint256 step, bytes32[] calldata roots)
        external
        nonReentrant
    {
        GenDispute storage d = _move(id, Phase.AwaitTrace);
        if (slotRoots.length != 3 * uint256(d.paramSlots)) {
            revert TraceLength(slotRoots.length, 3 * uint256(d.paramSlots));
        }
        if (roots.length != d.opsCount) revert TraceLength(roots.length, d.opsCount);
        bytes32 slotsRoot = NodeMerkle.root(slotRoots);
        bytes32 state = keccak256(abi.encodePacked(slotsRoot, step));
        if (state != d.modelRoot) revert StateMismatch(state, d.modelRoot);
        d.slotsRoot = slotsRoot;
        d.traceRoot = NodeMerkle.root(roots);
        emit GenerationTracePosted(id, slotRoots, step, roots);
        uint32[] memory pick = new uint32[](1);
        pick[0] = d.claimed;
        if (roots[roots.length - 1] != ReceiptWindow.i32Root(pick)) {
            d.moves += 1; // the trace is a move even when it ends the game
            _resolve(id, d, true, Reason.Mismatch);
        } else {
            _next(d, Phase.AwaitPinpoint);
        }
    }

    /// @notice The challenger names an output element of one op of the forward program and
    ///         proves the op and its inputs (parameter slots against the posted slot roots,
    ///         earlier outputs against the trace, the window, constants by the op); the
    ///         verifier computes what the element must be.
    /// @dev Only the challenger, phase AwaitPinpoint, before the deadline. Emits
    ///      {Pinpointed}. Reverts as DisputeGame.pinpoint does.
    function pinpoint(uint256 id, Pinpoint calldata p) external nonReentrant {
        GenDispute storage d = _move(id, Phase.AwaitPinpoint);
        uint256 opIndex = p.opIndex;
        PinpointChecks.proveLeaf(keccak256(abi.encode(p.op)), opIndex, d.opsCount, p.opProof, d.opsRoot, false);
        PinpointChecks.proveLeaf(p.outputRoot, opIndex, d.opsCount, p.outputProof, d.traceRoot, true);
        uint256 length = PinpointChecks.outputLength(p.op.dims);
        if (p.element >= length) revert ElementOutOfRange(p.element, length);
        // The parameters are slots 0..P of the posted checkpoint (3P slots: params, m, v).
        PinpointChecks.Commitments memory c =
            PinpointChecks.Commitments(d.slotsRoot, 3 * uint256(d.paramSlots), d.traceRoot, d.opsCount, d.windowRoot);
        bytes32[] memory roots = PinpointChecks.inputRoots(c, opIndex, p.op.inputs, p.inputRoots);
        d.expected = verifier.evaluate(p.op, p.element, StepOps.Context(d.seed, d.index), roots, p.openings);
        // opIndex < opsCount (a uint32) and element < length <= 2^64 - 1, both checked above
        d.opIndex = uint32(opIndex);
        d.element = uint64(p.element);
        d.outputLength = uint64(length);
        d.dtype = p.op.dtype;
        d.outputRoot = p.outputRoot;
        uint64 deadline = _next(d, Phase.AwaitReveal);
        emit Pinpointed(id, opIndex, p.element, p.outputRoot, d.expected, deadline);
    }

    /// @notice The provider opens the pinpointed element of its committed output: equal to
    ///         the verifier's value, the provider wins; different, it is slashed.
    /// @dev Only the provider, phase AwaitReveal, before the deadline. Emits {Revealed},
    ///      {DisputeResolved}. Reverts {OpeningShape}, {OpeningMismatch}, {ElementNotOpened}.
    function reveal(uint256 id, StepOps.Opening calldata opening) external nonReentrant {
        GenDispute storage d = _move(id, Phase.AwaitReveal);
        uint32 committed = PinpointChecks.committedElement(opening, d.outputLength, d.dtype, d.outputRoot, d.element);
        d.moves += 1;
        emit Revealed(id, committed, d.expected);
        bool challengerWon = committed != d.expected;
        _resolve(id, d, challengerWon, challengerWon ? Reason.Mismatch : Reason.Match);
    }

    /// @notice Instead of pinpointing, the challenger makes the provider reveal leaves
    ///         [firstLeaf, firstLeaf + leaves) of an op output of its trace (cut at the
    ///         tensor's end): the values a pinpoint needs, which the provider might
    ///         otherwise withhold. The range proof's siblings tell the challenger which
    ///         subtrees differ from its replay, so it walks down to a differing leaf.
    /// @dev Only the challenger, phase AwaitPinpoint, before the deadline, at most
    ///      MAX_REQUESTS times. Emits {ValuesRequested}. Reverts {TooManyRequests},
    ///      {OpMismatch}, {OutputMismatch}, {BadRequest}.
    function requestValues(uint256 id, ValuesRequest calldata r) external nonReentrant {
        GenDispute storage d = _move(id, Phase.AwaitPinpoint);
        if (d.requests >= MAX_REQUESTS) revert TooManyRequests(id);
        PinpointChecks.proveLeaf(keccak256(abi.encode(r.op)), r.opIndex, d.opsCount, r.opProof, d.opsRoot, false);
        PinpointChecks.proveLeaf(r.outputRoot, r.opIndex, d.opsCount, r.outputProof, d.traceRoot, true);
        uint256 length = PinpointChecks.outputLength(r.op.dims);
        uint256 count = ValuesRounds.requested(length, r.firstLeaf, r.leaves, MAX_REQUEST_LEAVES);
        // opIndex < opsCount (a uint32), firstLeaf < leaves <= 2^61, count <= 512: the casts keep every value
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

    /// @notice The provider reveals the requested leaves with a range proof against the
    ///         output root of its trace; the challenger moves next (pinpoint or ask again).
    ///         A provider that does not loses by {timeout}.
    /// @dev Only the provider, phase AwaitValues, before the deadline. Emits
    ///      {ValuesProvided}. Reverts {NotRequested}, {OpeningShape}, {OpeningMismatch}.
    function provideValues(uint256 id, StepOps.Opening calldata opening) external nonReentrant {
        GenDispute storage d = _move(id, Phase.AwaitValues);
        ValuesRounds.checkProvided(opening, d.element, d.requestedLeaves, d.outputLength, d.dtype, d.outputRoot);
        uint64 deadline = _next(d, Phase.AwaitPinpoint);
        emit ValuesProvided(id, d.opIndex, opening.firstLeaf, opening.words, opening.siblings, deadline);
    }

    /// @notice Anyone ends a dispute whose mover missed its deadline: no trace, no
    ///         requested values or no reveal, the challenger wins; no pinpoint, the provider wins.
    /// @dev Emits {DisputeResolved}. Reverts {UnknownDispute}, {AlreadyResolved}, {DeadlineNotPassed}.
    function timeout(uint256 id) external nonReentrant {
        GenDispute storage d = _dispute(id);
        Phase phase = d.phase;
        if (phase == Phase.Resolved) revert AlreadyResolved(id);
        if (block.timestamp <= d.deadline) revert DeadlineNotPassed(id, d.deadline);
        if (phase == Phase.AwaitTrace) _resolve(id, d, true, Reason.TraceTimeout);
        else if (phase == Phase.AwaitPinpoint) _resolve(id, d, false, Reason.PinpointTimeout);
        else if (phase == Phase.AwaitValues) _resolve(id, d, true, Reason.ValuesTimeout);
        else _resolve(id, d, true, Reason.RevealTimeout);
    }

    /// @notice Sets the bond of new disputes, the time per move and the treasury. Only the owner.
    /// @dev Emits {GameParametersSet}. Reverts {InvalidMoveTime}, {ZeroBond}.
    function setParameters(uint96 bond_, uint64 moveTime_, address treasury_) external onlyOwner {
        if (moveTime_ < 5 minutes || moveTime_ > 7 days) revert InvalidMoveTime(moveTime_);
        if (bond_ == 0) revert ZeroBond();
        bond = bond_;
        moveTime = moveTime_;
        treasury = treasury_;
        emit GameParametersSet(bond_, moveTime_, treasury_);
    }

    // ---------------------------------------------------------------- views

    /// @notice The EIP-712 digest a provider signs for `r` (domain: the ServiceRegistry).
    function receiptDigest(Receipt calldata r) public view returns (bytes32) {
        return ReceiptWindow.digest(r, address(services));
    }

    /// @notice A dispute's whole record. Reverts {UnknownDispute}.
    function getDispute(uint256 id) external view returns (GenDispute memory) {
        return _dispute(id);
    }

    // ---------------------------------------------------------------- internal

    function _dispute(uint256 id) internal view returns (GenDispute storage d) {
        d = disputes[id];
        if (d.phase == Phase.None) revert UnknownDispute(id);
    }

    /// @dev The dispute of a move: the phase it waits for, its mover, before its deadline.
    function _move(uint256 id, Phase want) internal view returns (GenDispute storage d) {
        d = _dispute(id);
        if (d.phase != want) revert WrongPhase(id, d.phase, want);
        address mover = want == Phase.AwaitPinpoint ? d.challenger : d.provider;
        if (msg.sender != mover) revert NotYourMove(id, msg.sender, mover);
        if (block.timestamp > d.deadline) revert DeadlinePassed(id, d.deadline);
    }

    function _next(GenDispute storage d, Phase phase) internal returns (uint64 deadline) {
        deadline = uint64(block.timestamp) + d.moveTime;
        d.phase = phase;
        d.deadline = deadline;
        d.moves += 1;
    }

    /// @dev Ends the dispute: a losing provider's service stake is slashed (first the
    ///      answer's cost, all of it to the paying client, once per payment; then the
    ///      rest: the StakeRegistry's share to the challenger, the remainder to the
    ///      treasury) and the bond returned; a losing challenger's bond goes to the provider.
    function _resolve(uint256 id, GenDispute storage d, bool challengerWon, Reason reason) internal {
        d.phase = Phase.Resolved;
        d.reason = reason;
        emit DisputeResolved(id, d.service, challengerWon, reason);
        // A stake already slashed or released has nothing left (and the StakeRegistry
        // refuses a slash of nothing locked): the dispute still ends and the bond moves.
        uint256 stake = challengerWon ? services.service(d.service).stake : 0;
        if (stake > 0) stake -= _refund(id, d.service, stake);
        if (stake > 0) services.slash(d.service, type(uint256).max, d.challenger, treasury);
        _pay(challengerWon ? d.challenger : d.provider, d.bond);
    }

    /// @dev At open: the client of the receipt's channel is owed the answer's cost if the
    ///      provider loses. Only a channel that pays this provider counts (a receipt naming
    ///      another pair's channel refunds no one); the payment is the channel and the
    ///      voucher total, so two receipts of one payment refund once.
    function _noteRefund(uint256 id, Receipt calldata r, address provider) internal {
        if (r.cost == 0) return;
        PaymentChannel.Channel memory c = channels.channel(r.channel);
        if (c.provider != provider || c.client == address(0)) return;
        uint96 amount = r.cost > type(uint96).max ? type(uint96).max : uint96(r.cost);
        refundOf[id] = Refund(c.client, amount, keccak256(abi.encode(r.channel, r.cumulative)));
    }

    /// @dev Slashes the refund a lost dispute owes (at most MAX_REFUND_BPS of the service's
    ///      `stake`, never anyone else's: the ServiceRegistry slashes only this service's
    ///      locked stake) to the paying client, both halves of the StakeRegistry's split; returns it.
    function _refund(uint256 id, uint256 service, uint256 stake) internal returns (uint256 amount) {
        Refund memory f = refundOf[id];
        if (f.amount == 0 || refunded[f.payment]) return 0;
        refunded[f.payment] = true;
        uint256 cap = stake * MAX_REFUND_BPS / 10_000;
        amount = f.amount < cap ? f.amount : cap;
        if (amount == 0) return 0;
        services.slash(service, amount, f.client, f.client);
        emit ClientRefunded(id, f.payment, f.client, amount);
    }

    /// @dev The one place tokens leave this contract.
    function _pay(address to, uint256 amount) internal {
        if (amount > 0) token.safeTransfer(to, amount);
    }

    /// @dev The program of the claim's window (greedy or sampled), its tokens input, and a
    ///      sampled answer's context: its seed and the token's index.
    function _bindProgram(GenDispute storage d, Claim calldata claim) internal {
        Receipt calldata r = claim.receipt;
        d.opsRoot = _checkProgram(claim.service, claim.header, claim.programProof, claim.prompt.length + claim.index, r.seeded);
        d.windowRoot = ReceiptWindow.windowRoot(claim.prompt, claim.output, claim.index, claim.header.length, r);
        if (r.seeded) {
            d.seed = r.seed;
            d.index = claim.index;
        }
    }

    /// @dev The header proves to the service's programs root at its length − 1 (plus count
    ///      for a sampled answer's), and its length is the window's: all `before` tokens, or
    ///      the last `count` of them.
    function _checkProgram(
        uint256 service,
        ForwardHeader calldata h,
        bytes32[] calldata proof,
        uint256 before,
        bool sampled
    ) internal view returns (bytes32) {
        Programs memory programs = programsOf[service];
        if (programs.count == 0) revert ProgramsUnset(service);
        uint256 want = before < programs.count ? before : programs.count;
        if (h.length != want || want == 0) revert WindowLength(want, h.length);
        if (h.ops == 0 || h.paramSlots == 0) revert InvalidHeader(h.ops, h.paramSlots);
        uint256 leaf = (sampled ? programs.count : 0) + h.length - 1;
        bytes32 root = NodeMerkle.rootFromLeaf(keccak256(abi.encode(h)), leaf, 2 * uint256(programs.count), proof);
        if (root != programs.root) revert HeaderMismatch(root, programs.root);
        return h.opsRoot;
    }
}
