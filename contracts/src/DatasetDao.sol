// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {TrainingMarket} from "./TrainingMarket.sol";

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
///      escrow and by joining a fork. Votes are read at a proposal's snapshot.
contract DatasetDao {
    using SafeERC20 for IERC20;
    using Checkpoints for Checkpoints.Trace208;

    struct Params {
        uint32 votingDelay; // seconds from proposal to the start of voting (>= 1)
        uint32 votingPeriod; // seconds of voting
        uint32 timelockDelay; // seconds between queueing and execution
        uint16 quorumBps; // for + abstain votes needed, of all shares at the snapshot
        uint16 forkThresholdBps; // escrowed shares needed to fork, of all shares
        uint32 forkPeriod; // seconds after a fork during which more members may join it
    }

    enum ProposalState {
        Pending,
        Active,
        Defeated,
        Succeeded,
        Queued,
        Executed,
        Canceled
    }

    struct Proposal {
        address proposer;
        uint48 snapshot;
        uint48 voteEnd;
        uint48 eta;
        bool executed;
        bool canceled;
        uint256 forVotes;
        uint256 againstVotes;
        uint256 abstainVotes;
        bytes32 actionsHash;
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

    mapping(address => Checkpoints.Trace208) internal shareHistory;
    Checkpoints.Trace208 internal totalHistory;

    uint256 public proposalCount;
    mapping(uint256 => Proposal) internal proposals;
    mapping(uint256 => mapping(address => bool)) public hasVoted;

    /// @notice Fork escrow of the current round: shares members have put aside to fork.
    uint256 public forkRound;
    mapping(uint256 => mapping(address => uint256)) public escrowedShares;
    mapping(uint256 => address[]) internal escrowMembers;
    mapping(uint256 => mapping(address => bool)) internal isEscrowMember;
    uint256 public escrowedTotal;
    /// @notice The DAO of the last executed fork, and until when members may still join it.
    DatasetDao public lastFork;
    uint48 public forkJoinEndsAt;

    event HeadChanged(bytes oldHead, bytes newHead, uint256 indexed proposalId);
    event SharesChanged(address indexed member, uint256 oldShares, uint256 newShares);
    event ProposalCreated(uint256 indexed proposalId, address indexed proposer, address[] targets, uint256[] values, bytes[] calldatas, string description, uint48 voteStart, uint48 voteEnd);
    event VoteCast(uint256 indexed proposalId, address indexed voter, uint8 support, uint256 weight);
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
    error OnlyParent(address caller);
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
    error InsufficientShares(address member, uint256 have, uint256 need);
    error ForkThresholdNotReached(uint256 escrowed, uint256 need);
    error ForkJoinClosed(uint48 endedAt);
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
        for (uint256 i = 0; i < members.length; i++) _mint(members[i], shares[i]);
    }

    // ---------------------------------------------------------------- proposals

    /// @notice Proposes calls for the DAO to make (to itself for head, parameters,
    ///         members and models; to the token and market for funding jobs). The
    ///         proposer must hold shares.
    /// @dev Emits {ProposalCreated}.
    function propose(address[] calldata targets, uint256[] calldata values, bytes[] calldata calldatas, string calldata description)
        external
        returns (uint256 proposalId)
    {
        if (sharesOf(msg.sender) == 0) revert NoShares(msg.sender);
        if (targets.length == 0) revert EmptyProposal();
        if (targets.length != values.length || targets.length != calldatas.length) revert LengthMismatch();
        proposalId = ++proposalCount;
        Proposal storage p = proposals[proposalId];
        p.proposer = msg.sender;
        p.snapshot = uint48(block.timestamp);
        uint48 voteStart = p.snapshot + params.votingDelay;
        p.voteEnd = voteStart + params.votingPeriod;
        p.actionsHash = keccak256(abi.encode(targets, values, calldatas));
        emit ProposalCreated(proposalId, msg.sender, targets, values, calldatas, description, voteStart, p.voteEnd);
    }

    /// @notice Votes with the caller's shares at the proposal's snapshot.
    /// @param support 0 against, 1 for, 2 abstain.
    /// @dev Emits {VoteCast}. Requires the proposal to be Active.
    function castVote(uint256 proposalId, uint8 support) external returns (uint256 weight) {
        _expectState(proposalId, ProposalState.Active);
        if (hasVoted[proposalId][msg.sender]) revert AlreadyVoted(proposalId, msg.sender);
        Proposal storage p = proposals[proposalId];
        weight = shareHistory[msg.sender].upperLookupRecent(p.snapshot);
        if (weight == 0) revert NoShares(msg.sender);
        hasVoted[proposalId][msg.sender] = true;
        if (support == 0) p.againstVotes += weight;
        else if (support == 1) p.forVotes += weight;
        else if (support == 2) p.abstainVotes += weight;
        else revert InvalidSupport(support);
        emit VoteCast(proposalId, msg.sender, support, weight);
    }

    /// @notice Starts the timelock of a proposal that succeeded.
    /// @dev Emits {ProposalQueued}.
    function queue(uint256 proposalId) external {
        _expectState(proposalId, ProposalState.Succeeded);
        Proposal storage p = proposals[proposalId];
        p.eta = uint48(block.timestamp) + params.timelockDelay;
        emit ProposalQueued(proposalId, p.eta);
    }

    /// @notice Makes the calls of a queued proposal once its timelock has passed; any
    ///         failing call reverts the whole execution with its reason.
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

    uint256 private _currentProposal;

    // ---------------------------------------------------------------- actions (by proposal only)

    /// @notice Makes `newHead` the canonical version of the dataset. Only by proposal.
    /// @dev Emits {HeadChanged}; the history of heads is the history of these events.
    function setHead(bytes calldata newHead) external onlyDao {
        emit HeadChanged(head, newHead, _currentProposal);
        head = newHead;
    }

    /// @notice Gives `account` `shares` more shares. Only by proposal.
    function admitMember(address account, uint256 shares) external onlyDao {
        if (shares == 0) revert ZeroAmount();
        _mint(account, shares);
    }

    /// @notice Changes the DAO's parameters. Only by proposal.
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
    ///         counting here at once and become shares of the fork if it executes.
    /// @dev Emits {EscrowedToFork}.
    function escrowToFork(uint256 shares) external {
        if (shares == 0) revert ZeroAmount();
        _burn(msg.sender, shares);
        // Listed once per round, even after a full withdrawal and a new escrow.
        if (!isEscrowMember[forkRound][msg.sender]) {
            isEscrowMember[forkRound][msg.sender] = true;
            escrowMembers[forkRound].push(msg.sender);
        }
        escrowedShares[forkRound][msg.sender] += shares;
        escrowedTotal += shares;
        emit EscrowedToFork(forkRound, msg.sender, shares);
    }

    /// @notice Takes shares back out of the fork escrow before the fork executes.
    /// @dev Emits {WithdrawnFromForkEscrow}.
    function withdrawFromForkEscrow(uint256 shares) external {
        uint256 have = escrowedShares[forkRound][msg.sender];
        if (shares == 0 || shares > have) revert InsufficientShares(msg.sender, have, shares);
        escrowedShares[forkRound][msg.sender] = have - shares;
        escrowedTotal -= shares;
        _mint(msg.sender, shares);
        emit WithdrawnFromForkEscrow(forkRound, msg.sender, shares);
    }

    /// @notice Once the escrow holds `forkThresholdBps` of all shares, anyone executes
    ///         the fork: a new DAO with the same head and parameters, the escrowed
    ///         members' shares, and their pro-rata part of the treasury. Other members
    ///         may follow with {joinFork} for `forkPeriod`.
    /// @dev Emits {ForkExecuted}.
    function executeFork() external returns (DatasetDao fork) {
        uint256 escrowed = escrowedTotal;
        uint256 all = totalShares() + escrowed;
        uint256 need = (all * params.forkThresholdBps + 9_999) / 10_000;
        if (escrowed == 0 || escrowed < need) revert ForkThresholdNotReached(escrowed, need);
        address[] memory members = escrowMembers[forkRound];
        uint256[] memory shares = new uint256[](members.length);
        // A member who withdrew everything gets a zero entry: minting zero is harmless.
        for (uint256 i = 0; i < members.length; i++) shares[i] = escrowedShares[forkRound][members[i]];
        fork = factory.createFork(name, head, members, shares, params);
        uint256 treasuryShare = token.balanceOf(address(this)) * escrowed / all;
        emit ForkExecuted(forkRound, address(fork), escrowed, treasuryShare, head);
        lastFork = fork;
        forkJoinEndsAt = uint48(block.timestamp) + params.forkPeriod;
        forkRound += 1;
        escrowedTotal = 0;
        if (treasuryShare > 0) token.safeTransfer(address(fork), treasuryShare);
    }

    /// @notice During the fork period, moves `shares` of the caller's shares and their
    ///         pro-rata part of the treasury to the last fork.
    /// @dev Emits {JoinedFork}.
    function joinFork(uint256 shares) external {
        if (block.timestamp > forkJoinEndsAt || address(lastFork) == address(0)) revert ForkJoinClosed(forkJoinEndsAt);
        if (shares == 0) revert ZeroAmount();
        uint256 treasuryShare = token.balanceOf(address(this)) * shares / (totalShares() + escrowedTotal);
        _burn(msg.sender, shares);
        lastFork.admitFromParent(msg.sender, shares);
        emit JoinedFork(address(lastFork), msg.sender, shares, treasuryShare);
        if (treasuryShare > 0) token.safeTransfer(address(lastFork), treasuryShare);
    }

    /// @notice Gives shares to a member who joins this fork from the parent. Only the parent.
    function admitFromParent(address member, uint256 shares) external {
        if (msg.sender != parent) revert OnlyParent(msg.sender);
        _mint(member, shares);
    }

    // ---------------------------------------------------------------- views

    function sharesOf(address member) public view returns (uint256) {
        return shareHistory[member].latest();
    }

    function totalShares() public view returns (uint256) {
        return totalHistory.latest();
    }

    function sharesAt(address member, uint48 timepoint) external view returns (uint256) {
        return shareHistory[member].upperLookupRecent(timepoint);
    }

    function treasury() external view returns (uint256) {
        return token.balanceOf(address(this));
    }

    function escrowMembersOf(uint256 round) external view returns (address[] memory) {
        return escrowMembers[round];
    }

    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        if (proposalId == 0 || proposalId > proposalCount) revert UnknownProposal(proposalId);
        return proposals[proposalId];
    }

    /// @notice Where a proposal stands, from its votes and the clock.
    function state(uint256 proposalId) public view returns (ProposalState) {
        if (proposalId == 0 || proposalId > proposalCount) revert UnknownProposal(proposalId);
        Proposal storage p = proposals[proposalId];
        if (p.executed) return ProposalState.Executed;
        if (p.canceled) return ProposalState.Canceled;
        if (block.timestamp < p.snapshot + params.votingDelay) return ProposalState.Pending;
        if (block.timestamp <= p.voteEnd) return ProposalState.Active;
        uint256 quorum = totalHistory.upperLookupRecent(p.snapshot) * params.quorumBps / 10_000;
        bool passed = p.forVotes > p.againstVotes && p.forVotes + p.abstainVotes >= quorum;
        if (!passed) return ProposalState.Defeated;
        return p.eta == 0 ? ProposalState.Succeeded : ProposalState.Queued;
    }

    // ---------------------------------------------------------------- internal

    function _expectState(uint256 proposalId, ProposalState want) internal view {
        ProposalState have = state(proposalId);
        if (have != want) revert WrongProposalState(proposalId, have, want);
    }

    function _setParams(Params memory p) internal {
        if (p.votingDelay == 0) revert InvalidParams("votingDelay");
        if (p.votingPeriod == 0) revert InvalidParams("votingPeriod");
        if (p.quorumBps > 10_000) revert InvalidParams("quorumBps");
        if (p.forkThresholdBps == 0 || p.forkThresholdBps > 10_000) revert InvalidParams("forkThresholdBps");
        params = p;
        emit ParamsSet(p);
    }

    /// @dev The one place shares are created; with {_burn}, the only changes to shares.
    function _mint(address member, uint256 shares) internal {
        uint256 old = sharesOf(member);
        shareHistory[member].push(uint48(block.timestamp), SafeCast.toUint208(old + shares));
        totalHistory.push(uint48(block.timestamp), SafeCast.toUint208(totalShares() + shares));
        emit SharesChanged(member, old, old + shares);
    }

    function _burn(address member, uint256 shares) internal {
        uint256 old = sharesOf(member);
        if (shares > old) revert InsufficientShares(member, old, shares);
        // Cannot underflow: shares <= old <= totalShares().
        unchecked {
            shareHistory[member].push(uint48(block.timestamp), uint208(old - shares));
            totalHistory.push(uint48(block.timestamp), uint208(totalShares() - shares));
        }
        emit SharesChanged(member, old, old - shares);
    }
}
