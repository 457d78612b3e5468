// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {StakeRegistry} from "../StakeRegistry.sol";
import {InferenceErrors} from "./InferenceErrors.sol";

/// @title ServiceRegistry
/// @notice Providers offer models for inference here: a service names the model (its
///         state root and CID), a price per 1,000 tokens and an endpoint (a libp2p peer
///         id and multiaddrs, or a URL), and holds stake. The stake is the provider's
///         own in the StakeRegistry, locked by this contract, so it answers for the
///         service's answers: an authorised slasher (the inference dispute game) can take
///         it. Retiring a service stops it at once, but its stake is released only after
///         `unbondingDelay`, so a receipt handed out just before can still be disputed.
contract ServiceRegistry is Ownable, InferenceErrors {
    struct Service {
        address provider;
        bytes32 modelRoot; // state root of the weights served
        bytes modelCid; // where the weights are, by CID
        uint256 pricePer1k; // token units per 1,000 tokens (prompt and output)
        string endpoint;
        uint256 stake; // locked in the StakeRegistry by this contract
        uint64 releaseAt; // non-zero once retiring: when the stake is released
    }

    StakeRegistry public immutable stakes;
    uint64 public unbondingDelay;
    uint256 public minStake;
    mapping(uint256 => Service) internal services;
    uint256 public serviceCount;
    mapping(address => bool) public isSlasher;

    event ServiceRegistered(uint256 indexed service, address indexed provider, bytes32 modelRoot, bytes modelCid, uint256 pricePer1k, string endpoint, uint256 stake);
    event ServiceUpdated(uint256 indexed service, uint256 pricePer1k, string endpoint);
    event ServiceRetiring(uint256 indexed service, uint64 releaseAt);
    event ServiceReleased(uint256 indexed service, uint256 stake);
    event ServiceSlashed(uint256 indexed service, uint256 amount, address beneficiary);
    event SlasherSet(address indexed slasher, bool allowed);
    event ParametersSet(uint64 unbondingDelay, uint256 minStake);

    /// @param stakes_ The StakeRegistry that must authorise this contract as a locker.
    /// @param owner_ Who may set parameters and slashers (a DAO or timelock).
    /// @param unbondingDelay_ Seconds between retiring a service and releasing its stake.
    /// @param minStake_ Least stake a service holds.
    constructor(StakeRegistry stakes_, address owner_, uint64 unbondingDelay_, uint256 minStake_) Ownable(owner_) {
        stakes = stakes_;
        unbondingDelay = unbondingDelay_;
        minStake = minStake_;
    }

    /// @notice Registers a service of the caller, locking `stake` of its free stake in
    ///         the StakeRegistry.
    /// @dev Emits {ServiceRegistered}. Requires `stake` >= minStake, a non-zero price, and
    ///      that much free stake.
    function register(bytes32 modelRoot, bytes calldata modelCid, uint256 pricePer1k, string calldata endpoint, uint256 stake) external returns (uint256 id) {
        if (stake < minStake || stake == 0) revert StakeTooLow(stake, minStake);
        if (pricePer1k == 0) revert ZeroPrice();
        id = ++serviceCount;
        services[id] = Service({provider: msg.sender, modelRoot: modelRoot, modelCid: modelCid, pricePer1k: pricePer1k, endpoint: endpoint, stake: stake, releaseAt: 0});
        stakes.lock(msg.sender, stake);
        emit ServiceRegistered(id, msg.sender, modelRoot, modelCid, pricePer1k, endpoint, stake);
    }

    /// @notice Changes a live service's price and endpoint. Only its provider.
    /// @dev Emits {ServiceUpdated}.
    function update(uint256 id, uint256 pricePer1k, string calldata endpoint) external {
        Service storage s = _own(id);
        if (s.releaseAt != 0) revert AlreadyRetiring(id, s.releaseAt);
        if (pricePer1k == 0) revert ZeroPrice();
        s.pricePer1k = pricePer1k;
        s.endpoint = endpoint;
        emit ServiceUpdated(id, pricePer1k, endpoint);
    }

    /// @notice Retires a service: it is no longer offered, and its stake is released after
    ///         `unbondingDelay`. Only its provider.
    /// @dev Emits {ServiceRetiring}.
    function retire(uint256 id) external {
        Service storage s = _own(id);
        if (s.releaseAt != 0) revert AlreadyRetiring(id, s.releaseAt);
        s.releaseAt = uint64(block.timestamp) + unbondingDelay;
        emit ServiceRetiring(id, s.releaseAt);
    }

    /// @notice Unlocks a retired service's stake once its delay has passed. Anyone may call.
    /// @dev Emits {ServiceReleased}.
    function release(uint256 id) external {
        Service storage s = _known(id);
        if (s.releaseAt == 0) revert ServiceNotRetiring(id);
        if (block.timestamp < s.releaseAt) revert ReleaseNotReady(id, s.releaseAt, uint64(block.timestamp));
        uint256 amount = s.stake;
        s.stake = 0;
        if (amount > 0) stakes.unlock(s.provider, amount);
        emit ServiceReleased(id, amount);
    }

    /// @notice Takes `amount` of a service's stake, live or retiring, for a proven lie:
    ///         the StakeRegistry's split between `beneficiary` and `treasury`. Only a slasher.
    /// @dev Emits {ServiceSlashed}.
    function slash(uint256 id, uint256 amount, address beneficiary, address treasury) external {
        if (!isSlasher[msg.sender]) revert NotSlasher(msg.sender);
        Service storage s = _known(id);
        if (amount > s.stake) amount = s.stake;
        s.stake -= amount;
        stakes.slash(s.provider, amount, beneficiary, treasury);
        emit ServiceSlashed(id, amount, beneficiary);
    }

    /// @notice Allows or revokes a slasher (the inference dispute game). Only the owner.
    /// @dev Emits {SlasherSet}.
    function setSlasher(address slasher, bool allowed) external onlyOwner {
        isSlasher[slasher] = allowed;
        emit SlasherSet(slasher, allowed);
    }

    /// @notice Sets the retirement delay and the least stake of a new service. Only the owner.
    /// @dev Emits {ParametersSet}.
    function setParameters(uint64 unbondingDelay_, uint256 minStake_) external onlyOwner {
        unbondingDelay = unbondingDelay_;
        minStake = minStake_;
        emit ParametersSet(unbondingDelay_, minStake_);
    }

    // ---------------------------------------------------------------- views

    /// @notice A service's record (zero provider for an unknown id).
    function service(uint256 id) external view returns (Service memory) {
        return services[id];
    }

    /// @notice Whether a service is offered now (registered and not retiring).
    function isLive(uint256 id) external view returns (bool) {
        Service storage s = services[id];
        return s.provider != address(0) && s.releaseAt == 0;
    }

    // ---------------------------------------------------------------- internal

    function _known(uint256 id) internal view returns (Service storage s) {
        s = services[id];
        if (s.provider == address(0)) revert UnknownService(id);
    }

    function _own(uint256 id) internal view returns (Service storage s) {
        s = _known(id);
        if (msg.sender != s.provider) revert NotProvider(msg.sender, s.provider);
    }
}
