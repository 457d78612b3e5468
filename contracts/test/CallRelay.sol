// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice A contract that makes calls for its owner (as a multisig, a DAO or a smart
///         account would): what opens a dispute "through another contract" in the tests,
///         forge and anvil alike (the anvil test deploys it from contracts/out).
contract CallRelay {
    address public immutable owner;

    error NotOwner(address caller);
    error CallFailed(bytes reason);

    constructor() {
        owner = msg.sender;
    }

    /// @notice Calls `target` with `data` as this contract; reverts with the callee's reason.
    function call(address target, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) revert CallFailed(result);
    }
}
