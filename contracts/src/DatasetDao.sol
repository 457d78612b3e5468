// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {TrainingMarket} from "./TrainingMarket.sol";
import {DaoShares} from "./dao/DaoShares.sol";

interface IDatasetDaoFactory {
    function createFork(string calldata name, bytes calldata head, address[] calldata members, uint256[] calldata shares, DatasetDao.Params calldata params)
        external
        returns (DatasetDao);
}

/// @title DatasetDao
/// @notice One DAO per dataset: members hold shares (their votes) and share a treasury
///         in the network token. Proposals, in the manner of OpenZeppelin Governor
///         (propose → vote → queue → timelock → execute), set the canonical dataset
///         head, fund training jobs from the treasury, adopt finished models, change
///         parameters and admit members. Members who disagree fork in the manner of
///         the Nouns fork: they escrow shares; past a threshold the fork executes, a
///         new DAO starts from the same head with its lineage recorded, the escrowed
///         members get their shares there, and their pro-rata part of the treasury
///         moves with them. Data is shared by content address: nothing is copied.
/// @dev Shares are not transferable; they change only by proposal (admit), by fork
///      escrow and by joining a fork. A proposal fixes its rules when it is made: its
///      snapshot, voting window, quorum, timelock and execution period never follow
///      later parameter changes, and a proposal not executed in time expires. A vote
///      weighs the voter's shares at the snapshot that the voter still holds: shares
///      escrowed or moved to a fork stop voting, including in votes already cast.
contract DatasetDao is DaoShares {
    using SafeERC20 for IERC20;

    struct Params {
        uint32 votingDelay; // seconds from proposal to the start of voting (>= 1)
        uint32 votingPeriod; // seconds of voting
        uint32 timelockDelay; // seconds between queueing and execution
        uint16 quorumBps; // for + abstain votes needed, of all shares at the snapshot
        uint16 forkThresholdBps; // escrowed shares needed to fork, of all shares
        uint32 forkPeriod; // seconds after a fork during which more members may join it
        uint32 executionPeriod; // seconds a passed proposal may wait to be queued, then executed
    }

    /// @dev Expired is last so the earlier states keep their numbers.
    enum ProposalState {
        Pending,
        Active,
        Defeated,
        Succeeded,
        Queued,
        Executed,
        Canceled,
        Expired
    }

    /// @dev Everything that decides the proposal's fate is fixed here when it is made.
    struct Proposal {
        address proposer;
        uint48 snapshot;
        uint48 voteStart;
        uint48 voteEnd;
        uint48 eta;
        bool executed;
        bool canceled;
        uint16 quorumBps;
        uint32 timelockDelay;
        uint32 executionPeriod;
        uint256 forVotes;
        uint256 againstVotes;
        uint256 abstainVotes;
        bytes32 actionsHash;
    }

    /// @dev One slot per vote: whether it was cast, its side and its (possibly reduced) weight.
    struct Vote {
        bool cast;
        uint8 support;
        uint208 weight;
    }

    IERC20 public token;
    IDatasetDaoFactory public factory;
    /// @notice The DAO this one was forked from (zero for an original), and the head it forked at.
    address public parent;
    bytes public forkPoint;
    string public name;
    /// @notice The canonical dataset version (CID bytes of a dag-cbor commit).
    bytes public head;
    Params public params;
    /// @notice Models the DAO adopted, by training-market job id.
    mapping(uint256 => bytes) public adoptedModel;

    uint256 public proposalCount;
    mapping(uint256 => Proposal) internal proposals;
    /// @notice Whether each vote was cast, its support and its (possibly reduced) weight.
    mapping(uint256 => mapping(address => Vote)) public voteOf;
    /// @dev Proposals a member voted on that may still be in their voting window.
    mapping(address => uint256[]) internal openVotes;

    /// @notice Fork escrow of the current round: shares members have put aside to fork.
    uint256 public forkRound;
    mapping(uint256 => mapping(address => uint256)) public escrowedShares;
    mapping(uint256 => address[]) internal escrowMembers;
    mapping(uint256 => mapping(address => bool)) internal isEscrowMember;
    uint256 public escrowedTotal;
    /// @notice The DAO of the last executed fork, when it executed, and until when members may still join it.
    DatasetDao public lastFork;
    uint48 public lastForkAt;
    uint48 public forkJoinEndsAt;
    /// @notice Shares each member moved into a fork by {joinFork}: the fork admits exactly these.
    mapping(address => mapping(address => uint256)) public joinedShares;
    /// @notice Shares admitted by proposal during a fork's join period: they may not follow into it.
    mapping(address => mapping(address => uint256)) public admittedDuringJoin;
    /// @notice In a fork: the shares admitted so far from the parent's {joinedShares}.
    mapping(address => uint256) public admittedFromParent;

    uint256 private _currentProposal;
    /// @dev Set only while {executeFork} asks the factory for the fork (see {forking}).
    bool private transient _forking;

    event HeadChanged(bytes oldHead, bytes newHead, uint256 indexed proposalId);
    event ProposalCreated(uint256 indexed proposalId, address indexed proposer, address[] targets, uint256[] values, bytes[] calldatas, string description, uint48 voteStart, uint48 voteEnd);
    event VoteCast(uint256 indexed proposalId, address indexed voter, uint8 support, uint256 weight);
    event VoteReduced(uint256 indexed proposalId, address indexed voter, uint256 oldWeight, uint256 newWeight);
    event ProposalQueued(uint256 indexed proposalId, uint48 eta);
    event ProposalExecuted(uint256 indexed proposalId);
    event ProposalCanceled(uint256 indexed proposalId);
    event ParamsSet(Params params);
    event ModelAdopted(uint256 indexed jobId, bytes modelCid);
    event JobFunded(address indexed market, uint256 indexed jobId, uint256 reward);
    event Deposited(address indexed from, uint256 amount);
    event EscrowedToFork(uint256 indexed round, address indexed member, uint256 shares);
    event WithdrawnFromForkEscrow(uint256 indexed round, address indexed member, uint256 shares);
    event ForkExecuted(uint256 indexed round, address indexed forkDao, uint256 shares, uint256 treasury, bytes forkPoint);
    event JoinedFork(address indexed forkDao, address indexed member, uint256 shares, uint256 treasury);

    error OnlyDao(address caller);
    error InvalidParams(string field);
    error LengthMismatch();
    error NoShares(address account);
    error EmptyProposal();
    error UnknownProposal(uint256 proposalId);
    error WrongProposalState(uint256 proposalId, ProposalState have, ProposalState want);
    error AlreadyVoted(uint256 proposalId, address voter);
    error InvalidSupport(uint8 support);
    error ActionsMismatch(uint256 proposalId);
    error TimelockNotPassed(uint256 proposalId, uint48 eta);
    error NotProposer(uint256 proposalId, address caller);
    error ForkThresholdNotReached(uint256 escrowed, uint256 need);
    error ForkJoinClosed(uint48 endedAt);
    error JoinExceedsSharesAtFork(address member, uint256 heldAtFork, uint256 joining);
    error NotAFork();
    error ZeroAmount();
    error AlreadyInitialized();

    modifier onlyDao() {
        if (msg.sender != address(this)) revert OnlyDao(msg.sender);
        _;
    }

    /// @dev The factory deploys this contract once and gives every dataset a minimal
    ///      clone (EIP-1167) of it; the original itself can never be initialised.
    constructor() {
        factory = IDatasetDaoFactory(address(1));
    }

    /// @notice Sets a fresh clone up. Called once, by the factory, in the transaction that
    ///         creates the clone.
    /// @param parent_ Zero for an original DAO; the forking DAO for a fork.
    /// @param forkPoint_ The parent's head at the fork (empty for an original).
    function initialize(
        IERC20 token_,
        address parent_,
        bytes memory forkPoint_,
        string memory name_,
        bytes memory head_,
        address[] memory members,
        uint256[] memory shares,
        Params memory params_
    ) external {
        if (address(factory) != address(0)) revert AlreadyInitialized();
        if (members.length != shares.length) revert LengthMismatch();
        token = token_;
        factory = IDatasetDaoFactory(msg.sender);
        parent = parent_;
        forkPoint = forkPoint_;
        name = name_;
        head = head_;
        _setParams(params_);
        // A member who withdrew all escrowed shares is listed with zero: skipped.
        for (uint256 i = 0; i < members.length; i++) if (shares[i] > 0) _mint(members[i], shares[i]);
    }

    // ---------------------------------------------------------------- proposals

    /// @notice Proposes calls for the DAO to make (to itself for head, parameters,
    ///         members and models; to the token and market for funding jobs). The
    ///         proposer must hold shares. The current parameters are fixed into it.
    /// @dev Emits {ProposalCreated}.
    function propose(address[] calldata targets, uint256[] calldata values, bytes[] calldata calldatas, string calldata description)
        external
        returns (uint256 proposalId)
    {
        if (sharesOf(msg.sender) == 0) revert NoShares(msg.sender);
        if (targets.length == 0) revert EmptyProposal();
        if (targets.length != values.length || targets.length != calldatas.length) revert LengthMismatch();
        Params memory rules = params;
        proposalId = ++proposalCount;
        Proposal storage p = proposals[proposalId];
        p.proposer = msg.sender;
        p.snapshot = uint48(block.timestamp);
        p.voteStart = p.snapshot + rules.votingDelay;
        p.voteEnd = p.voteStart + rules.votingPeriod;
        p.quorumBps = rules.quorumBps;
        p.timelockDelay = rules.timelockDelay;
        p.executionPeriod = rules.executionPeriod;
        p.actionsHash = keccak256(abi.encode(targets, values, calldatas));
        emit ProposalCreated(proposalId, msg.sender, targets, values, calldatas, description, p.voteStart, p.voteEnd);
    }

    /// @notice Votes with the caller's shares at the proposal's snapshot, as far as the
    ///         caller still holds them (shares escrowed or moved to a fork do not vote).
    /// @param support 0 against, 1 for, 2 abstain.
    /// @dev Emits {VoteCast}. Requires the proposal to be Active.
    function castVote(uint256 proposalId, uint8 support) external returns (uint256 weight) {
        _expectState(proposalId, ProposalState.Active);
        if (voteOf[proposalId][msg.sender].cast) revert AlreadyVoted(proposalId, msg.sender);
        if (support > 2) revert InvalidSupport(support);
        Proposal storage p = proposals[proposalId];
        weight = sharesAt(msg.sender, p.snapshot);
        uint256 held = sharesOf(msg.sender);
        if (held < weight) weight = held;
        if (weight == 0) revert NoShares(msg.sender);
        _tally(p, support, weight, true);
        // weight <= a uint208 share count, so it fits.
        voteOf[proposalId][msg.sender] = Vote(true, support, uint208(weight));
        openVotes[msg.sender].push(proposalId);
        emit VoteCast(proposalId, msg.sender, support, weight);
    }

    /// @notice Starts the timelock of a proposal that succeeded and has not expired.
    /// @dev Emits {ProposalQueued}. The delay is the one fixed at proposal time.
    function queue(uint256 proposalId) external {
        _expectState(proposalId, ProposalState.Succeeded);
        Proposal storage p = proposals[proposalId];
        p.eta = uint48(block.timestamp) + p.timelockDelay;
        emit ProposalQueued(proposalId, p.eta);
    }

    /// @notice Makes the calls of a queued proposal once its timelock has passed and before
    ///         it expires; any failing call reverts the whole execution with its reason.
    /// @dev Emits {ProposalExecuted}.
    function execute(uint256 proposalId, address[] calldata targets, uint256[] calldata values, bytes[] calldata calldatas) external payable {
        _expectState(proposalId, ProposalState.Queued);
        Proposal storage p = proposals[proposalId];
        if (block.timestamp < p.eta) revert TimelockNotPassed(proposalId, p.eta);
        if (keccak256(abi.encode(targets, values, calldatas)) != p.actionsHash) revert ActionsMismatch(proposalId);
        p.executed = true;
        _currentProposal = proposalId;
        for (uint256 i = 0; i < targets.length; i++) {
            Address.functionCallWithValue(targets[i], calldatas[i], values[i]);
        }
        _currentProposal = 0;
        emit ProposalExecuted(proposalId);
    }

    /// @notice The proposer withdraws a proposal that has not been executed.
    /// @dev Emits {ProposalCanceled}.
    function cancel(uint256 proposalId) external {
        ProposalState s = state(proposalId);
        if (s == ProposalState.Executed || s == ProposalState.Canceled) revert WrongProposalState(proposalId, s, ProposalState.Pending);
        if (msg.sender != proposals[proposalId].proposer) revert NotProposer(proposalId, msg.sender);
        proposals[proposalId].canceled = true;
        emit ProposalCanceled(proposalId);
    }

    // ---------------------------------------------------------------- actions (by proposal only)

    /// @notice Makes `newHead` the canonical version of the dataset. Only by proposal.
    /// @dev Emits {HeadChanged}; the history of heads is the history of these events.
    function setHead(bytes calldata newHead) external onlyDao {
        emit HeadChanged(head, newHead, _currentProposal);
        head = newHead;
    }

    /// @notice Gives `account` `shares` more shares. Only by proposal. Shares admitted
    ///         during a fork's join period cannot follow into that fork.
    function admitMember(address account, uint256 shares) external onlyDao {
        if (shares == 0) revert ZeroAmount();
        if (block.timestamp <= forkJoinEndsAt) admittedDuringJoin[address(lastFork)][account] += shares;
        _mint(account, shares);
    }

    /// @notice Changes the DAO's parameters for proposals made from now on. Only by proposal.
    function setParams(Params calldata params_) external onlyDao {
        _setParams(params_);
    }

    /// @notice Records a finished model as adopted by the DAO. Only by proposal.
    /// @dev Emits {ModelAdopted}.
    function adoptModel(uint256 jobId, bytes calldata modelCid) external onlyDao {
        adoptedModel[jobId] = modelCid;
        emit ModelAdopted(jobId, modelCid);
    }

    /// @notice Posts a training job paid from the treasury; slashes of a cheating
    ///         trainer's stake (beyond the challenger's half) come back to this DAO.
    ///         Only by proposal.
    /// @dev Emits {JobFunded}.
    function fundJob(TrainingMarket market, TrainingMarket.JobSpec calldata spec) external onlyDao returns (uint256 jobId) {
        token.forceApprove(address(market), spec.reward);
        jobId = market.postJob(spec, address(this));
        emit JobFunded(address(market), jobId, spec.reward);
    }

    /// @notice Adds tokens to the treasury (anyone may also just transfer them).
    /// @dev Emits {Deposited}.
    function deposit(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(msg.sender, amount);
    }

    // ---------------------------------------------------------------- fork

    /// @notice Puts `shares` of the caller's shares into the fork escrow: they stop
    ///         counting here at once (also in votes already cast on proposals still
    ///         being voted) and become shares of the fork if it executes. They can be
    ///         taken back with {withdrawFromForkEscrow} until then.
    /// @dev Emits {EscrowedToFork}.
    function escrowToFork(uint256 shares) external {
        if (shares == 0) revert ZeroAmount();
        _burn(msg.sender, shares);
        _reduceVotes(msg.sender);
        // Listed once per round, even after a full withdrawal and a new escrow.
        if (!isEscrowMember[forkRound][msg.sender]) {
            isEscrowMember[forkRound][msg.sender] = true;
            escrowMembers[forkRound].push(msg.sender);
        }
        escrowedShares[forkRound][msg.sender] += shares;
        escrowedTotal += shares;
        emit EscrowedToFork(forkRound, msg.sender, shares);
    }

    /// @notice Takes shares back out of the fork escrow before the fork executes: the way
    ///         back for a fork that does not reach its threshold.
    /// @dev Emits {WithdrawnFromForkEscrow}.
    function withdrawFromForkEscrow(uint256 shares) external {
        uint256 have = escrowedShares[forkRound][msg.sender];
        if (shares == 0 || shares > have) revert InsufficientShares(msg.sender, have, shares);
        // Cannot underflow: shares <= have <= escrowedTotal.
        unchecked {
            escrowedShares[forkRound][msg.sender] = have - shares;
            escrowedTotal -= shares;
        }
        _mint(msg.sender, shares);
        emit WithdrawnFromForkEscrow(forkRound, msg.sender, shares);
    }

    /// @notice Once the escrow holds `forkThresholdBps` of all shares, anyone executes
    ///         the fork: a new DAO with the same head and parameters, the escrowed
    ///         members' shares, and their pro-rata part of the treasury. Other members
    ///         may follow with {joinFork} for `forkPeriod`.
    /// @dev Emits {ForkExecuted}. The factory creates a fork only while this runs.
    function executeFork() external returns (DatasetDao fork) {
        uint256 escrowed = escrowedTotal;
        uint256 all = totalShares() + escrowed;
        uint256 need = (all * params.forkThresholdBps + 9_999) / 10_000;
        if (escrowed == 0 || escrowed < need) revert ForkThresholdNotReached(escrowed, need);
        address[] memory members = escrowMembers[forkRound];
        uint256[] memory shares = new uint256[](members.length);
        for (uint256 i = 0; i < members.length; i++) shares[i] = escrowedShares[forkRound][members[i]];
        _forking = true;
        fork = factory.createFork(name, head, members, shares, params);
        _forking = false;
        uint256 treasuryShare = token.balanceOf(address(this)) * escrowed / all;
        emit ForkExecuted(forkRound, address(fork), escrowed, treasuryShare, head);
        lastFork = fork;
        lastForkAt = uint48(block.timestamp);
        forkJoinEndsAt = uint48(block.timestamp) + params.forkPeriod;
        forkRound += 1;
        escrowedTotal = 0;
        if (treasuryShare > 0) token.safeTransfer(address(fork), treasuryShare);
    }

    /// @notice Whether this DAO is inside {executeFork}; the factory creates forks only then.
    function forking() external view returns (bool) {
        return _forking;
    }

    /// @notice During the fork period, moves `shares` of the caller's shares and their
    ///         pro-rata part of the treasury to the last fork. Only shares the caller
    ///         already held before the fork executed, and not admitted since, can move.
    /// @dev Emits {JoinedFork}.
    function joinFork(uint256 shares) external {
        DatasetDao fork = lastFork;
        if (block.timestamp > forkJoinEndsAt || address(fork) == address(0)) revert ForkJoinClosed(forkJoinEndsAt);
        if (shares == 0) revert ZeroAmount();
        // Shares of the fork's own second could have been admitted just before it in the
        // same block: only the shares held at the end of the second before count.
        uint256 heldAtFork = sharesAt(msg.sender, lastForkAt - 1);
        uint256 joining = joinedShares[address(fork)][msg.sender] + shares;
        if (joining > heldAtFork) revert JoinExceedsSharesAtFork(msg.sender, heldAtFork, joining);
        uint256 held = sharesOf(msg.sender);
        uint256 admitted = admittedDuringJoin[address(fork)][msg.sender];
        uint256 free = held > admitted ? held - admitted : 0;
        if (shares > free) revert InsufficientShares(msg.sender, free, shares);
        uint256 treasuryShare = token.balanceOf(address(this)) * shares / (totalShares() + escrowedTotal);
        _burn(msg.sender, shares);
        _reduceVotes(msg.sender);
        joinedShares[address(fork)][msg.sender] = joining;
        fork.admitFromParent(msg.sender);
        emit JoinedFork(address(fork), msg.sender, shares, treasuryShare);
        if (treasuryShare > 0) token.safeTransfer(address(fork), treasuryShare);
    }

    /// @notice In a fork: gives `member` the shares the parent's records say it moved here
    ///         by {joinFork} and has not been given yet. Anyone may call it; the amount comes
    ///         only from the parent's records, which only the member's own join writes, so no
    ///         proposal of the parent can mint shares here.
    function admitFromParent(address member) external {
        if (parent == address(0)) revert NotAFork();
        uint256 owed = DatasetDao(parent).joinedShares(address(this), member);
        uint256 given = admittedFromParent[member];
        if (owed <= given) return;
        admittedFromParent[member] = owed;
        _mint(member, owed - given);
    }

    // ---------------------------------------------------------------- views

    /// @notice Whether `account` voted on `proposalId`.
    function hasVoted(uint256 proposalId, address account) external view returns (bool) {
        return voteOf[proposalId][account].cast;
    }

    /// @notice The DAO's token balance.
    function treasury() external view returns (uint256) {
        return token.balanceOf(address(this));
    }

    /// @notice The members who escrowed in fork round `round` (some may have withdrawn).
    function escrowMembersOf(uint256 round) external view returns (address[] memory) {
        return escrowMembers[round];
    }

    /// @notice The parameters as a struct (the `params` getter returns a tuple).
    function getParams() external view returns (Params memory) {
        return params;
    }

    /// @notice A proposal's record, with the rules fixed at its making.
    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        if (proposalId == 0 || proposalId > proposalCount) revert UnknownProposal(proposalId);
        return proposals[proposalId];
    }

    /// @notice Where a proposal stands, from its votes, its own rules and the clock.
    function state(uint256 proposalId) public view returns (ProposalState) {
        if (proposalId == 0 || proposalId > proposalCount) revert UnknownProposal(proposalId);
        Proposal storage p = proposals[proposalId];
        if (p.executed) return ProposalState.Executed;
        if (p.canceled) return ProposalState.Canceled;
        if (block.timestamp < p.voteStart) return ProposalState.Pending;
        if (block.timestamp <= p.voteEnd) return ProposalState.Active;
        uint256 quorum = totalSharesAt(p.snapshot) * p.quorumBps / 10_000;
        bool passed = p.forVotes > p.againstVotes && p.forVotes + p.abstainVotes >= quorum;
        if (!passed) return ProposalState.Defeated;
        if (p.eta == 0) return block.timestamp <= uint256(p.voteEnd) + p.executionPeriod ? ProposalState.Succeeded : ProposalState.Expired;
        return block.timestamp <= uint256(p.eta) + p.executionPeriod ? ProposalState.Queued : ProposalState.Expired;
    }

    // ---------------------------------------------------------------- internal

    function _expectState(uint256 proposalId, ProposalState want) internal view {
        ProposalState have = state(proposalId);
        if (have != want) revert WrongProposalState(proposalId, have, want);
    }

    function _tally(Proposal storage p, uint8 support, uint256 weight, bool add) internal {
        if (support == 0) p.againstVotes = add ? p.againstVotes + weight : p.againstVotes - weight;
        else if (support == 1) p.forVotes = add ? p.forVotes + weight : p.forVotes - weight;
        else p.abstainVotes = add ? p.abstainVotes + weight : p.abstainVotes - weight;
    }

    /// @dev After `member`'s shares went down, cuts each of its votes on proposals still
    ///      in their voting window to what it holds now, and forgets votes whose window
    ///      closed (their outcome is final). The list holds only the member's own votes.
    function _reduceVotes(address member) internal {
        uint256[] storage open = openVotes[member];
        uint256 left = sharesOf(member);
        for (uint256 i = open.length; i > 0; i--) {
            uint256 proposalId = open[i - 1];
            Proposal storage p = proposals[proposalId];
            if (block.timestamp > p.voteEnd || p.canceled) {
                open[i - 1] = open[open.length - 1];
                open.pop();
                continue;
            }
            Vote storage v = voteOf[proposalId][member];
            if (v.weight <= left) continue;
            emit VoteReduced(proposalId, member, v.weight, left);
            _tally(p, v.support, v.weight - left, false);
            // left < v.weight, which fits in uint208.
            v.weight = uint208(left);
        }
    }

    function _setParams(Params memory p) internal {
        if (p.votingDelay == 0) revert InvalidParams("votingDelay");
        if (p.votingPeriod == 0) revert InvalidParams("votingPeriod");
        if (p.quorumBps > 10_000) revert InvalidParams("quorumBps");
        if (p.forkThresholdBps == 0 || p.forkThresholdBps > 10_000) revert InvalidParams("forkThresholdBps");
        if (p.executionPeriod == 0) revert InvalidParams("executionPeriod");
        params = p;
        emit ParamsSet(p);
    }
}
