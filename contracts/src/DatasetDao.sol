// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {TrainingMarket} from "./TrainingMarket.sol";
import {TrainingMarketTypes} from "./market/TrainingMarketTypes.sol";
import {DaoGovernance} from "./dao/DaoGovernance.sol";

interface IDatasetDaoFactory {
    function createFork(string calldata name, bytes calldata head, address[] calldata members, uint256[] calldata shares, DaoGovernance.Params calldata params)
        external
        returns (DatasetDao);
}

/// @title DatasetDao
/// @notice One DAO per dataset: members hold shares (their votes) and share a treasury
///         in the network token. Proposals, through OpenZeppelin's Governor (propose →
///         vote → queue → timelock → execute, see {DaoGovernance}), set the canonical
///         dataset head, fund training jobs from the treasury, adopt finished models,
///         change parameters and admit members. Members who disagree fork in the manner
///         of the Nouns fork: they escrow shares; past a threshold the fork executes, a
///         new DAO starts from the same head with its lineage recorded, the escrowed
///         members get their shares there, and their pro-rata part of the treasury
///         moves with them. Data is shared by content address: nothing is copied.
/// @dev Shares are not transferable; they change only by proposal (admit), by fork
///      escrow and by joining a fork. Every DAO is a minimal clone (EIP-1167) of one
///      implementation, set up once by {initialize}.
contract DatasetDao is DaoGovernance {
    using SafeERC20 for IERC20;

    /// @notice The network token the treasury is held in.
    IERC20 public treasuryToken;
    IDatasetDaoFactory public factory;
    /// @notice The DAO this one was forked from (zero for an original), and the head it forked at.
    address public parent;
    bytes public forkPoint;
    /// @notice The canonical dataset version (CID bytes of a dag-cbor commit).
    bytes public head;
    /// @notice Models the DAO adopted, by training-market job id.
    mapping(uint256 => bytes) public adoptedModel;

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

    /// @dev Set only while {executeFork} asks the factory for the fork (see {forking}).
    bool private transient _forking;

    event HeadChanged(bytes oldHead, bytes newHead, uint256 indexed proposalId);
    event ModelAdopted(uint256 indexed jobId, bytes modelCid);
    event JobFunded(address indexed market, uint256 indexed jobId, uint256 reward);
    event Deposited(address indexed from, uint256 amount);
    event EscrowedToFork(uint256 indexed round, address indexed member, uint256 shares);
    event WithdrawnFromForkEscrow(uint256 indexed round, address indexed member, uint256 shares);
    event ForkExecuted(uint256 indexed round, address indexed forkDao, uint256 shares, uint256 treasury, bytes forkPoint);
    event JoinedFork(address indexed forkDao, address indexed member, uint256 shares, uint256 treasury);

    error OnlyDao(address caller);
    error LengthMismatch();
    error ForkThresholdNotReached(uint256 escrowed, uint256 need);
    error ForkJoinClosed(uint48 endedAt);
    error JoinExceedsSharesAtFork(address member, uint256 heldAtFork, uint256 joining);
    error NotAFork();
    error ZeroAmount();

    modifier onlyDao() {
        if (msg.sender != address(this)) revert OnlyDao(msg.sender);
        _;
    }

    /// @dev The factory deploys this contract once and gives every dataset a minimal
    ///      clone (EIP-1167) of it; the original itself can never be initialised.
    constructor() {
        _disableInitializers();
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
    ) external initializer {
        if (members.length != shares.length) revert LengthMismatch();
        // The Governor's name only: votes by signature are not taken (see castVoteBySig),
        // so the EIP-712 domain is never used, and leaving its name and version unstored
        // saves two storage slots per DAO.
        __Governor_init_unchained(name_);
        treasuryToken = token_;
        factory = IDatasetDaoFactory(msg.sender);
        parent = parent_;
        forkPoint = forkPoint_;
        head = head_;
        _setParams(params_);
        // A member who withdrew all escrowed shares is listed with zero: skipped.
        for (uint256 i = 0; i < members.length; i++) if (shares[i] > 0) _mint(members[i], shares[i]);
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
    function fundJob(TrainingMarket market, TrainingMarketTypes.JobSpec calldata spec) external onlyDao returns (uint256 jobId) {
        treasuryToken.forceApprove(address(market), spec.reward);
        jobId = market.postJob(spec, address(this));
        emit JobFunded(address(market), jobId, spec.reward);
    }

    /// @notice Adds tokens to the treasury (anyone may also just transfer them).
    /// @dev Emits {Deposited}.
    function deposit(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        treasuryToken.safeTransferFrom(msg.sender, address(this), amount);
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
        fork = factory.createFork(name(), head, members, shares, params);
        _forking = false;
        uint256 treasuryShare = treasuryToken.balanceOf(address(this)) * escrowed / all;
        emit ForkExecuted(forkRound, address(fork), escrowed, treasuryShare, head);
        lastFork = fork;
        lastForkAt = uint48(block.timestamp);
        forkJoinEndsAt = uint48(block.timestamp) + params.forkPeriod;
        forkRound += 1;
        escrowedTotal = 0;
        if (treasuryShare > 0) treasuryToken.safeTransfer(address(fork), treasuryShare);
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
        uint256 treasuryShare = treasuryToken.balanceOf(address(this)) * shares / (totalShares() + escrowedTotal);
        _burn(msg.sender, shares);
        _reduceVotes(msg.sender);
        joinedShares[address(fork)][msg.sender] = joining;
        fork.admitFromParent(msg.sender);
        emit JoinedFork(address(fork), msg.sender, shares, treasuryShare);
        if (treasuryShare > 0) treasuryToken.safeTransfer(address(fork), treasuryShare);
    }

    /// @notice In a fork: gives `member` the shares the parent's records say it moved here
    ///         by {joinFork} and has not been given yet. Anyone may call it; the amount comes
    ///         only from the parent's records, which only the member's own join writes, so no
    ///         proposal of the parent can mint shares here.
    function admitFromParent(address member) external {
        if (parent == address(0)) revert NotAFork();
        uint256 owed = DatasetDao(payable(parent)).joinedShares(address(this), member);
        uint256 given = admittedFromParent[member];
        if (owed <= given) return;
        admittedFromParent[member] = owed;
        _mint(member, owed - given);
    }

    // ---------------------------------------------------------------- views

    /// @notice The DAO's token balance.
    function treasury() external view returns (uint256) {
        return treasuryToken.balanceOf(address(this));
    }

    /// @notice The members who escrowed in fork round `round` (some may have withdrawn).
    function escrowMembersOf(uint256 round) external view returns (address[] memory) {
        return escrowMembers[round];
    }
}
