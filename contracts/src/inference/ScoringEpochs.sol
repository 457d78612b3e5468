// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {StakeRegistry} from "../StakeRegistry.sol";
import {ServiceRegistry} from "./ServiceRegistry.sol";
import {ScoringErrors} from "./ScoringErrors.sol";

/// @title ScoringEpochs
/// @notice Validators score inference providers each epoch and a reward pool is split by
///         their scores, as Yuma consensus does. An epoch of `epochLength` seconds is a
///         commit phase (`commitLength`) and then a reveal phase. A validator (StakeRegistry
///         role validator) commits keccak256(epoch, itself, services, weights, salt) and
///         reveals the preimage later: weights stay hidden until every commit is in, and a
///         commit binds its author, so nobody can copy this epoch's weights, only last
///         epoch's, which lag one epoch behind what the validators measure now.
///         Once the epoch is over anyone settles it: per service the consensus is the
///         stake-weighted median of the revealed weights (each validator's weights
///         normalised to sum 1); each weight is clipped to that consensus; a provider earns
///         the stake-weighted sum of the clipped weights on its service, a validator earns
///         its stake times the clipped part of its weights (what agreed with consensus).
/// @dev Rounding: each payout is rounded down and the last payee of each side (the last
///      service, the last validator in settle order with a non-zero share) gets the rest,
///      so payouts sum exactly to the pool. An epoch in which no weight survives (no
///      reveal) carries its whole pool to the current epoch.
contract ScoringEpochs is ScoringErrors {
    using SafeERC20 for IERC20;

    uint8 public constant PHASE_NOT_STARTED = 0;
    uint8 public constant PHASE_COMMIT = 1;
    uint8 public constant PHASE_REVEAL = 2;
    uint8 public constant PHASE_OVER = 3;
    /// @notice Validators that may commit in one epoch, and services one epoch may weigh:
    ///         settling costs O(services × validators²) and must fit in a block.
    uint256 public constant MAX_VALIDATORS = 32;
    uint256 public constant MAX_SERVICES = 32;
    /// @notice A validator's weights, normalised, sum to ONE.
    uint256 public constant ONE = 1e18;

    struct Epoch {
        uint256 pool;
        bool settled;
        address[] validators; // revealed, in reveal order
        uint256[] services; // every service some reveal weighed, first seen first
        uint256 committed; // how many commits
    }

    IERC20 public immutable token;
    StakeRegistry public immutable stakes;
    ServiceRegistry public immutable services;
    uint64 public immutable genesis;
    uint64 public immutable epochLength;
    uint64 public immutable commitLength;
    /// @notice Share of a pool paid to validators, in basis points; providers get the rest.
    uint16 public immutable validatorShareBps;
    /// @notice Least bonded stake a validator commits with.
    uint256 public immutable minValidatorStake;

    mapping(uint256 => Epoch) internal epochs;
    mapping(uint256 => mapping(address => bytes32)) public commitOf;
    mapping(uint256 => mapping(address => uint256)) public committedStake;
    /// @notice Stake a revealed validator counts with (0: not revealed).
    mapping(uint256 => mapping(address => uint256)) public revealedStake;
    mapping(uint256 => mapping(address => bool)) public revealed;
    /// @notice A validator's normalised weight of a service (sums to ONE over its services).
    mapping(uint256 => mapping(address => mapping(uint256 => uint256))) public weightOf;
    mapping(uint256 => mapping(uint256 => bool)) internal weighed;
    /// @notice Per epoch and service: the consensus weight, then the provider's payout.
    mapping(uint256 => mapping(uint256 => uint256)) public consensusOf;
    mapping(uint256 => mapping(uint256 => uint256)) public providerPayout;
    mapping(uint256 => mapping(address => uint256)) public validatorPayout;
    mapping(uint256 => mapping(uint256 => bool)) public providerClaimed;
    mapping(uint256 => mapping(address => bool)) public validatorClaimed;

    event Funded(uint256 indexed epoch, address indexed from, uint256 amount);
    event Committed(uint256 indexed epoch, address indexed validator, bytes32 commitment, uint256 stake);
    event Revealed(uint256 indexed epoch, address indexed validator, uint256[] serviceIds, uint256[] weights, uint256 stake);
    event Settled(uint256 indexed epoch, uint256 pool, uint256 providerPool, uint256 validatorPool, uint256 carried);
    event ProviderPaid(uint256 indexed epoch, uint256 indexed service, address provider, uint256 amount);
    event ValidatorPaid(uint256 indexed epoch, address indexed validator, uint256 amount);

    /// @param token_ The reward token.
    /// @param stakes_ Where validators are staked with the validator role.
    /// @param services_ The services scored.
    /// @param epochLength_ Seconds of an epoch; epoch 0 starts at deployment.
    /// @param commitLength_ Seconds of an epoch's commit phase; the rest is its reveal phase.
    /// @param validatorShareBps_ Share of each pool for validators, in basis points.
    /// @param minValidatorStake_ Least bonded stake of a validator that commits (non-zero).
    constructor(IERC20 token_, StakeRegistry stakes_, ServiceRegistry services_, uint64 epochLength_, uint64 commitLength_, uint16 validatorShareBps_, uint256 minValidatorStake_) {
        if (commitLength_ == 0 || commitLength_ >= epochLength_) revert InvalidSchedule(epochLength_, commitLength_);
        if (validatorShareBps_ > 10_000) revert InvalidShare(validatorShareBps_);
        token = token_;
        stakes = stakes_;
        services = services_;
        genesis = uint64(block.timestamp);
        epochLength = epochLength_;
        commitLength = commitLength_;
        validatorShareBps = validatorShareBps_;
        minValidatorStake = minValidatorStake_ == 0 ? 1 : minValidatorStake_;
    }

    // ---------------------------------------------------------------- pool

    /// @notice Adds `amount` to epoch `epoch`'s reward pool (anyone: a DAO proposal, the
    ///         treasury). Requires an allowance for this contract.
    /// @dev Emits {Funded}. Requires the epoch unsettled.
    function fund(uint256 epoch, uint256 amount) external {
        if (amount == 0) revert ZeroFunding();
        if (epochs[epoch].settled) revert EpochSettled(epoch);
        token.safeTransferFrom(msg.sender, address(this), amount);
        epochs[epoch].pool += amount;
        emit Funded(epoch, msg.sender, amount);
    }

    // ---------------------------------------------------------------- validators

    /// @notice Commits the caller's weights for `epoch`, hidden: `commitment` is
    ///         {commitHash}(epoch, caller, serviceIds, weights, salt).
    /// @dev Emits {Committed}. Requires the epoch's commit phase, the validator role, at
    ///      least `minValidatorStake` bonded, one commit per validator and epoch.
    function commit(uint256 epoch, bytes32 commitment) external {
        _inPhase(epoch, PHASE_COMMIT);
        if (!stakes.hasRole(msg.sender, stakes.ROLE_VALIDATOR())) revert NotValidator(msg.sender);
        uint256 stake = stakes.nodeOf(msg.sender).staked;
        if (stake < minValidatorStake) revert ValidatorStakeTooLow(msg.sender, stake, minValidatorStake);
        if (commitOf[epoch][msg.sender] != bytes32(0)) revert AlreadyCommitted(epoch, msg.sender);
        Epoch storage e = epochs[epoch];
        if (e.committed == MAX_VALIDATORS) revert TooManyValidators(epoch, MAX_VALIDATORS);
        e.committed++;
        commitOf[epoch][msg.sender] = commitment;
        committedStake[epoch][msg.sender] = stake;
        emit Committed(epoch, msg.sender, commitment, stake);
    }

    /// @notice Reveals the caller's committed weights: `serviceIds` strictly ascending,
    ///         `weights` any scale (normalised here). Weights of services no longer live
    ///         are dropped, so a provider retiring cannot make reveals fail.
    /// @dev Emits {Revealed}. Requires the epoch's reveal phase and a matching commit. The
    ///      validator counts with the lesser of its stake at commit and now, so stake
    ///      unbonded after committing does not count.
    function reveal(uint256 epoch, uint256[] calldata serviceIds, uint256[] calldata weights, bytes32 salt) external {
        _inPhase(epoch, PHASE_REVEAL);
        bytes32 committed = commitOf[epoch][msg.sender];
        if (committed == bytes32(0)) revert NoCommit(epoch, msg.sender);
        if (revealed[epoch][msg.sender]) revert AlreadyRevealed(epoch, msg.sender);
        bytes32 hash = commitHash(epoch, msg.sender, serviceIds, weights, salt);
        if (hash != committed) revert RevealMismatch(epoch, msg.sender, committed, hash);
        if (serviceIds.length != weights.length) revert BadWeights(serviceIds.length, weights.length);
        uint256 total = 0;
        for (uint256 k = 0; k < serviceIds.length; k++) {
            if (k > 0 && serviceIds[k] <= serviceIds[k - 1]) revert ServicesNotAscending(serviceIds[k - 1], serviceIds[k]);
            if (services.isLive(serviceIds[k])) total += weights[k];
        }
        Epoch storage e = epochs[epoch];
        if (total > 0) {
            for (uint256 k = 0; k < serviceIds.length; k++) {
                uint256 id = serviceIds[k];
                if (weights[k] == 0 || !services.isLive(id)) continue;
                weightOf[epoch][msg.sender][id] = Math.mulDiv(weights[k], ONE, total);
                if (!weighed[epoch][id]) {
                    if (e.services.length == MAX_SERVICES) revert TooManyServices(epoch, MAX_SERVICES);
                    weighed[epoch][id] = true;
                    e.services.push(id);
                }
            }
        }
        uint256 stake = Math.min(committedStake[epoch][msg.sender], stakes.nodeOf(msg.sender).staked);
        revealed[epoch][msg.sender] = true;
        revealedStake[epoch][msg.sender] = stake;
        e.validators.push(msg.sender);
        emit Revealed(epoch, msg.sender, serviceIds, weights, stake);
    }

    // ---------------------------------------------------------------- settlement

    /// @notice Settles an epoch that is over: consensus per service, payouts per provider
    ///         and validator. Anyone may call, once.
    /// @dev Emits {Settled}. An epoch whose weights all vanish carries its pool to the
    ///      current epoch (never settled, since it is not over).
    function settle(uint256 epoch) external {
        _inPhase(epoch, PHASE_OVER);
        Epoch storage e = epochs[epoch];
        if (e.settled) revert EpochSettled(epoch);
        e.settled = true;
        address[] memory vs = e.validators;
        uint256[] memory ids = e.services;
        uint256[] memory stake = new uint256[](vs.length);
        uint256 totalStake = 0;
        for (uint256 i = 0; i < vs.length; i++) {
            stake[i] = revealedStake[epoch][vs[i]];
            totalStake += stake[i];
        }
        uint256[] memory rank = new uint256[](ids.length); // Σ_i stake_i · min(w_ij, c_j)
        uint256[] memory trust = new uint256[](vs.length); // Σ_j stake_i · min(w_ij, c_j)
        uint256 totalRank = 0;
        for (uint256 j = 0; j < ids.length; j++) {
            uint256[] memory w = new uint256[](vs.length);
            for (uint256 i = 0; i < vs.length; i++) w[i] = weightOf[epoch][vs[i]][ids[j]];
            uint256 c = _weightedMedian(w, stake, totalStake);
            consensusOf[epoch][ids[j]] = c;
            for (uint256 i = 0; i < vs.length; i++) {
                uint256 part = stake[i] * Math.min(w[i], c);
                rank[j] += part;
                trust[i] += part;
            }
            totalRank += rank[j];
        }
        uint256 pool = e.pool;
        if (totalRank == 0) {
            if (pool > 0) epochs[currentEpoch()].pool += pool;
            emit Settled(epoch, pool, 0, 0, pool);
            return;
        }
        // Σ rank = Σ trust = totalRank, so both sides split by the same total.
        uint256 validatorPool = pool * validatorShareBps / 10_000;
        uint256 providerPool = pool - validatorPool;
        _split(providerPool, rank, totalRank, epoch, ids, vs, true);
        _split(validatorPool, trust, totalRank, epoch, ids, vs, false);
        emit Settled(epoch, pool, providerPool, validatorPool, 0);
    }

    /// @notice Pays a service's provider its payout of `epoch`. Anyone may call; it pays
    ///         the service's provider.
    /// @dev Emits {ProviderPaid}. Requires the epoch settled, a payout, not yet claimed.
    function claimProvider(uint256 epoch, uint256 serviceId) external {
        if (!epochs[epoch].settled) revert EpochNotSettled(epoch);
        if (providerClaimed[epoch][serviceId]) revert AlreadyClaimed(epoch, bytes32(serviceId));
        uint256 amount = providerPayout[epoch][serviceId];
        if (amount == 0) revert NothingToClaim(epoch, bytes32(serviceId));
        providerClaimed[epoch][serviceId] = true;
        address provider = services.service(serviceId).provider;
        token.safeTransfer(provider, amount);
        emit ProviderPaid(epoch, serviceId, provider, amount);
    }

    /// @notice Pays a validator its payout of `epoch`. Anyone may call; it pays the validator.
    /// @dev Emits {ValidatorPaid}. Requires the epoch settled, a payout, not yet claimed.
    function claimValidator(uint256 epoch, address validator) external {
        if (!epochs[epoch].settled) revert EpochNotSettled(epoch);
        bytes32 payee = bytes32(uint256(uint160(validator)));
        if (validatorClaimed[epoch][validator]) revert AlreadyClaimed(epoch, payee);
        uint256 amount = validatorPayout[epoch][validator];
        if (amount == 0) revert NothingToClaim(epoch, payee);
        validatorClaimed[epoch][validator] = true;
        token.safeTransfer(validator, amount);
        emit ValidatorPaid(epoch, validator, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice The commitment of `validator`'s weights for `epoch` (what {commit} takes).
    function commitHash(uint256 epoch, address validator, uint256[] calldata serviceIds, uint256[] calldata weights, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(epoch, validator, serviceIds, weights, salt));
    }

    /// @notice The epoch running now.
    function currentEpoch() public view returns (uint256) {
        return (block.timestamp - genesis) / epochLength;
    }

    /// @notice Where `epoch` stands: PHASE_NOT_STARTED, PHASE_COMMIT, PHASE_REVEAL or PHASE_OVER.
    function phaseOf(uint256 epoch) public view returns (uint8) {
        uint256 start = genesis + epoch * epochLength;
        if (block.timestamp < start) return PHASE_NOT_STARTED;
        if (block.timestamp < start + commitLength) return PHASE_COMMIT;
        if (block.timestamp < start + epochLength) return PHASE_REVEAL;
        return PHASE_OVER;
    }

    /// @notice An epoch's pool, whether it is settled, its revealed validators and weighed services.
    function epochOf(uint256 epoch) external view returns (uint256 pool, bool settled, address[] memory validators, uint256[] memory serviceIds) {
        Epoch storage e = epochs[epoch];
        return (e.pool, e.settled, e.validators, e.services);
    }

    // ---------------------------------------------------------------- internal

    function _inPhase(uint256 epoch, uint8 phase) internal view {
        uint8 now_ = phaseOf(epoch);
        if (now_ != phase) revert NotPhase(epoch, phase, now_);
    }

    /// The largest weight that validators holding more than half the stake give at least:
    /// a minority, however it votes, neither lifts nor sinks it.
    function _weightedMedian(uint256[] memory w, uint256[] memory stake, uint256 totalStake) internal pure returns (uint256) {
        uint256 n = w.length;
        uint256[] memory order = new uint256[](n);
        for (uint256 i = 0; i < n; i++) {
            uint256 k = i;
            while (k > 0 && w[order[k - 1]] < w[i]) {
                order[k] = order[k - 1];
                k--;
            }
            order[k] = i;
        }
        uint256 cumulative = 0;
        for (uint256 k = 0; k < n; k++) {
            cumulative += stake[order[k]];
            if (cumulative * 2 > totalStake) return w[order[k]];
        }
        return 0;
    }

    /// Splits `amount` by `shares` (summing to `total`), rounding down; the last non-zero
    /// share takes what rounding left, so the payouts sum to `amount` exactly.
    function _split(uint256 amount, uint256[] memory shares, uint256 total, uint256 epoch, uint256[] memory ids, address[] memory vs, bool toProviders) internal {
        uint256 last = shares.length;
        for (uint256 k = shares.length; k > 0; k--) {
            if (shares[k - 1] > 0) {
                last = k - 1;
                break;
            }
        }
        uint256 paid = 0;
        for (uint256 k = 0; k < shares.length; k++) {
            if (shares[k] == 0) continue;
            uint256 part = k == last ? amount - paid : Math.mulDiv(amount, shares[k], total);
            paid += part;
            if (toProviders) providerPayout[epoch][ids[k]] = part;
            else validatorPayout[epoch][vs[k]] = part;
        }
    }
}
