// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title StakeRegistry
/// @notice Nodes stake collateral here, register their libp2p peer id and roles, and
///         unbond with a delay. Markets lock part of a stake for the duration of a job;
///         only authorised slashers (dispute games, and the market for absent trainers)
///         can take stake away, and a slashed amount is split between the beneficiary
///         (the challenger) and a treasury.
/// @dev Balances: `token.balanceOf(this) == Σ staked + Σ unbonding` at all times. A
///      node's `locked` is part of its `staked`, never more.
contract StakeRegistry is Ownable {
    using SafeERC20 for IERC20;

    uint8 public constant ROLE_TRAINER = 1;
    uint8 public constant ROLE_VALIDATOR = 2;
    uint8 public constant ROLE_REQUESTER = 4;
    uint8 public constant ROLE_CURATOR = 8;

    struct Node {
        uint256 staked; // bonded stake, including `locked`
        uint256 locked; // part of `staked` held for open jobs
        uint256 unbonding; // left the bond, waiting for `unbondingReady`
        uint64 unbondingReady; // when `unbonding` can be withdrawn
        uint8 roles;
        bytes peerId; // libp2p peer id (multihash bytes)
    }

    IERC20 public immutable token;
    uint64 public unbondingDelay;
    /// @notice Share of a slashed amount paid to the beneficiary, in basis points.
    uint16 public beneficiaryShareBps = 5_000;

    mapping(address => Node) internal nodes;
    mapping(address => bool) public isSlasher;
    mapping(address => bool) public isLocker;
    /// @notice Stake each locker holds of each node: a locker keeps the right to release
    ///         or slash what it locked even after governance revokes it, so revoking a
    ///         market stops new jobs and never bricks the ones it holds.
    mapping(address => mapping(address => uint256)) public lockedBy;
    uint256 public totalStaked;
    uint256 public totalUnbonding;

    event Registered(address indexed node, bytes peerId, uint8 roles);
    event Staked(address indexed node, uint256 amount, uint256 staked);
    event UnbondingStarted(address indexed node, uint256 amount, uint64 readyAt);
    event Withdrawn(address indexed node, uint256 amount);
    event Locked(address indexed node, address indexed locker, uint256 amount);
    event Unlocked(address indexed node, address indexed locker, uint256 amount);
    event Slashed(address indexed node, address indexed slasher, uint256 amount, address beneficiary, uint256 toBeneficiary, address treasury, uint256 toTreasury);
    event SlasherSet(address indexed slasher, bool allowed);
    event LockerSet(address indexed locker, bool allowed);
    event ParametersSet(uint64 unbondingDelay, uint16 beneficiaryShareBps);

    error ZeroAmount();
    error InsufficientFreeStake(address node, uint256 free, uint256 need);
    error InsufficientLocked(address node, uint256 locked, uint256 need);
    error NothingToWithdraw(address node);
    error UnbondingNotReady(address node, uint64 readyAt, uint64 now_);
    error NotSlasher(address caller);
    error NotLocker(address caller);
    error InvalidShare(uint16 bps);

    /// @param token_ The staking token.
    /// @param owner_ Who may authorise slashers and lockers and set parameters (a DAO or timelock).
    /// @param unbondingDelay_ Seconds between unbonding and withdrawal.
    constructor(IERC20 token_, address owner_, uint64 unbondingDelay_) Ownable(owner_) {
        token = token_;
        unbondingDelay = unbondingDelay_;
    }

    // ---------------------------------------------------------------- nodes

    /// @notice Sets the caller's libp2p peer id and roles (a bit set of ROLE_*).
    /// @dev Emits {Registered}.
    function register(bytes calldata peerId, uint8 roles) external {
        Node storage n = nodes[msg.sender];
        n.peerId = peerId;
        n.roles = roles;
        emit Registered(msg.sender, peerId, roles);
    }

    /// @notice Adds `amount` to the caller's stake. Requires an allowance for this contract.
    /// @dev Emits {Staked}.
    function stake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        nodes[msg.sender].staked += amount;
        totalStaked += amount;
        emit Staked(msg.sender, amount, nodes[msg.sender].staked);
    }

    /// @notice Moves `amount` of free stake out of the bond; it can be withdrawn after
    ///         `unbondingDelay`. Unbonding more restarts the delay for the whole amount.
    /// @dev Emits {UnbondingStarted}. Requires `amount` <= staked - locked.
    function unbond(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Node storage n = nodes[msg.sender];
        uint256 free = n.staked - n.locked;
        if (amount > free) revert InsufficientFreeStake(msg.sender, free, amount);
        n.staked -= amount;
        n.unbonding += amount;
        totalStaked -= amount;
        totalUnbonding += amount;
        n.unbondingReady = uint64(block.timestamp) + unbondingDelay;
        emit UnbondingStarted(msg.sender, amount, n.unbondingReady);
    }

    /// @notice Withdraws everything whose unbonding delay has passed.
    /// @dev Emits {Withdrawn}.
    function withdraw() external {
        Node storage n = nodes[msg.sender];
        uint256 amount = n.unbonding;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        if (block.timestamp < n.unbondingReady) revert UnbondingNotReady(msg.sender, n.unbondingReady, uint64(block.timestamp));
        n.unbonding = 0;
        totalUnbonding -= amount;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ---------------------------------------------------------------- markets

    /// @notice Holds `amount` of a node's free stake for a job. Only authorised lockers.
    /// @dev Emits {Locked}.
    function lock(address node, uint256 amount) external {
        if (!isLocker[msg.sender]) revert NotLocker(msg.sender);
        Node storage n = nodes[node];
        uint256 free = n.staked - n.locked;
        if (amount > free) revert InsufficientFreeStake(node, free, amount);
        n.locked += amount;
        lockedBy[msg.sender][node] += amount;
        emit Locked(node, msg.sender, amount);
    }

    /// @notice Releases `amount` of a node's stake that the caller locked (authorised or
    ///         revoked since).
    /// @dev Emits {Unlocked}.
    function unlock(address node, uint256 amount) external {
        uint256 held = lockedBy[msg.sender][node];
        if (held == 0 && !isLocker[msg.sender]) revert NotLocker(msg.sender);
        if (amount > held) revert InsufficientLocked(node, held, amount);
        Node storage n = nodes[node];
        n.locked -= amount;
        lockedBy[msg.sender][node] = held - amount;
        emit Unlocked(node, msg.sender, amount);
    }

    /// @notice Takes `amount` of the stake the caller locked of a node: `beneficiaryShareBps`
    ///         of it to `beneficiary`, the rest to `treasury`. Only a slasher, or a locker
    ///         (revoked or not) settling what it locked itself.
    /// @dev Emits {Slashed}. The amount must be locked by the caller: a slasher punishes
    ///      the stake held for the job at stake, never free stake the node did not put at
    ///      risk nor stake another market holds.
    function slash(address node, uint256 amount, address beneficiary, address treasury) external {
        uint256 held = lockedBy[msg.sender][node];
        if (!isSlasher[msg.sender] && held == 0) revert NotSlasher(msg.sender);
        if (amount > held) revert InsufficientLocked(node, held, amount);
        Node storage n = nodes[node];
        n.locked -= amount;
        lockedBy[msg.sender][node] = held - amount;
        n.staked -= amount;
        totalStaked -= amount;
        uint256 toBeneficiary = beneficiary == address(0) ? 0 : amount * beneficiaryShareBps / 10_000;
        uint256 toTreasury = amount - toBeneficiary;
        if (toBeneficiary > 0) token.safeTransfer(beneficiary, toBeneficiary);
        if (toTreasury > 0) token.safeTransfer(treasury, toTreasury);
        emit Slashed(node, msg.sender, amount, beneficiary, toBeneficiary, treasury, toTreasury);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Allows or revokes a slasher. Only the owner. Emits {SlasherSet}.
    function setSlasher(address slasher, bool allowed) external onlyOwner {
        isSlasher[slasher] = allowed;
        emit SlasherSet(slasher, allowed);
    }

    /// @notice Allows or revokes a locker. Only the owner. Emits {LockerSet}.
    function setLocker(address locker, bool allowed) external onlyOwner {
        isLocker[locker] = allowed;
        emit LockerSet(locker, allowed);
    }

    /// @notice Sets the unbonding delay and the beneficiary's share of slashes. Only the owner.
    /// @dev Emits {ParametersSet}.
    function setParameters(uint64 unbondingDelay_, uint16 beneficiaryShareBps_) external onlyOwner {
        if (beneficiaryShareBps_ > 10_000) revert InvalidShare(beneficiaryShareBps_);
        unbondingDelay = unbondingDelay_;
        beneficiaryShareBps = beneficiaryShareBps_;
        emit ParametersSet(unbondingDelay_, beneficiaryShareBps_);
    }

    // ---------------------------------------------------------------- views

    /// @notice A node's stake record.
    function nodeOf(address node) external view returns (Node memory) {
        return nodes[node];
    }

    /// @notice Stake a node can still lock or unbond.
    function freeStake(address node) external view returns (uint256) {
        return nodes[node].staked - nodes[node].locked;
    }

    function hasRole(address node, uint8 role) external view returns (bool) {
        return nodes[node].roles & role == role;
    }
}
