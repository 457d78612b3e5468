// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title CommonsToken
/// @notice The network's ERC-20: stakes, rewards and escrows are paid in it, and its
///         delegated balance is voting weight. The whole supply is minted once, to
///         the deployer, who distributes it; there is no owner and no further minting.
contract CommonsToken is ERC20, ERC20Permit, ERC20Votes {
    /// @param supply Whole supply, in the smallest unit, minted to `msg.sender`.
    constructor(uint256 supply) ERC20("Commons", "COM") ERC20Permit("Commons") {
        _mint(msg.sender, supply);
    }

    /// @dev Both parents define the balance-update hook; votes follow every transfer.
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    /// @inheritdoc Nonces
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
