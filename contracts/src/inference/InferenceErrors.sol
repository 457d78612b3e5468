// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The custom errors of the inference contracts (PaymentChannel, ServiceRegistry),
///         each with the values that made the call wrong.
abstract contract InferenceErrors {
    // PaymentChannel
    error ZeroAmount();
    error InvalidProvider(address provider);
    error ExpiryNotLater(uint64 expiry, uint64 atLeast);
    error ChannelAlreadyOpen(bytes32 channel);
    error ChannelNotOpen(bytes32 channel);
    error NotClient(address caller, address client);
    error VoucherNotNewer(bytes32 channel, uint256 cumulative, uint256 claimed);
    error Overspent(bytes32 channel, uint256 cumulative, uint256 deposit);
    error InvalidVoucherSigner(address signer, address client);
    error NotExpired(bytes32 channel, uint64 expiry, uint64 now_);

    // ServiceRegistry
    error StakeTooLow(uint256 stake, uint256 minStake);
    error ZeroPrice();
    error UnknownService(uint256 service);
    error NotProvider(address caller, address provider);
    error AlreadyRetiring(uint256 service, uint64 releaseAt);
    error ServiceNotRetiring(uint256 service);
    error ReleaseNotReady(uint256 service, uint64 releaseAt, uint64 now_);
    error NotSlasher(address caller);
}
